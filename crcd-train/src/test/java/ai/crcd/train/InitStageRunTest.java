package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.loop.RunContext;
import ai.crcd.train.loop.RunListener;
import ai.crcd.train.run.Checkpoint;
import ai.crcd.train.run.ParameterFiles;
import ai.crcd.train.run.RunFiles;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The init stage of the run lifecycle (#14) through {@link TrainingRun} with the zoo's two-stage
 * methods on resnet8 and 8x8 synthetic images: what the stage trains and what it leaves alone, that
 * its objective falls, its own progress lines, metrics rows and checkpoints, and a run interrupted
 * inside the init stage resuming bit-identically to an uninterrupted run.
 */
class InitStageRunTest {

    @TempDir static Path tmp;
    private static Path teacher;

    @BeforeAll
    static void teacherParameters() throws IOException {
        teacher = tmp.resolve("teacher.params");
        Engine.getInstance().setRandomSeed(99);
        try (NDManager m = NDManager.newBaseManager()) {
            Block net = Models.create("resnet8", 4, 1);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8));
            ParameterFiles.save(net, teacher);
        }
    }

    private static RunConfig config(Path out, String method, String options, int epochs) {
        return ConfigLoader.fromString(
                "kind: distill\nseed: 7\n"
                        + "data: {name: synthetic, batch_size: 16, test_batch_size: 32,"
                        + " synthetic: {train_size: 64, test_size: 32, classes: 4, channels: 1,"
                        + " size: 8}}\n"
                        + "model: {name: resnet8}\n"
                        + "teacher: {name: resnet8, checkpoint: "
                        + teacher
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: "
                        + epochs
                        + ", milestones: [1]}\n"
                        + "distill: {method: "
                        + method
                        + ", options: "
                        + options
                        + "}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 2, progress_seconds: 0}\n",
                List.of());
    }

    /** Snapshots of every parameter (by path) at the start of the run and after each init epoch. */
    private static final class Snapshots implements RunListener {
        final List<Map<String, float[]>> snaps = new ArrayList<>();
        Set<String> initTrained;
        Set<String> trainable;

        @Override
        public void onRunBegin(RunContext run) {
            snaps.add(snapshot(run));
            trainable = new HashSet<>();
            run.trainedParameters().forEach(p -> trainable.add(p.getKey()));
        }

        @Override
        public void onInitEpoch(RunContext run, EpochMetrics metrics) {
            snaps.add(snapshot(run));
            Set<Parameter> chosen = new HashSet<>(run.step().initTrainedParameters());
            initTrained = new HashSet<>();
            run.trainedParameters()
                    .forEach(
                            p -> {
                                if (chosen.contains(p.getValue())) {
                                    initTrained.add(p.getKey());
                                }
                            });
        }

        private static Map<String, float[]> snapshot(RunContext run) {
            Map<String, float[]> m = new HashMap<>();
            try (NDList all = ParameterFiles.toNDList(run.step().network())) {
                for (NDArray a : all) {
                    m.put(a.getName(), a.toFloatArray());
                }
            }
            return m;
        }
    }

    private static Snapshots runInitOnly(String name, String method, String options)
            throws IOException {
        Path dir = tmp.resolve(name);
        Snapshots s = new Snapshots();
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainingRun.builder(config(dir, method, options, 1), dir)
                .optCatalog(Catalog.standard())
                .optConsole(new PrintStream(console, true, StandardCharsets.UTF_8))
                .addListener(s)
                .build()
                .run();
        String out = console.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("distill " + method + " init epoch 3/3 step 4/4"), out);
        assertTrue(out.contains("distill " + method + " init epoch 3/3 lr"), out);
        assertTrue(out.contains("distill " + method + " epoch 1/1 lr"), out);
        List<String> csv = Files.readAllLines(dir.resolve(RunFiles.INIT_CSV));
        assertEquals(4, csv.size(), csv.toString()); // header + 3 init epochs
        assertTrue(csv.get(0).startsWith("stage,epoch,lr,train_loss,train_"), csv.get(0));
        assertTrue(csv.get(3).startsWith("init,3,"), csv.get(3));
        assertEquals(2, Files.readAllLines(dir.resolve(RunFiles.CSV)).size()); // main: 1 epoch
        try (NDManager m = NDManager.newBaseManager()) {
            Checkpoint ck = Checkpoint.read(dir.resolve(Checkpoint.FILE), m);
            assertEquals(1, ck.epochsDone());
            assertEquals(3, ck.initEpochsDone());
            assertEquals(3, ck.initHistory().size());
            List<EpochMetrics> h = ck.initHistory();
            double first = h.get(0).trainLoss();
            double last = h.get(2).trainLoss();
            assertTrue(last < first, method + " init objective " + first + " -> " + last);
        }
        assertEquals(4, s.snaps.size()); // begin + 3 init epochs
        return s;
    }

    /** Returns the parameters (not BatchNorm statistics) that changed during the init stage. */
    private static Set<String> changed(Snapshots s) {
        Set<String> changed = new HashSet<>();
        Map<String, float[]> a = s.snaps.get(0);
        Map<String, float[]> b = s.snaps.get(s.snaps.size() - 1);
        for (String k : a.keySet()) {
            if (!java.util.Arrays.equals(a.get(k), b.get(k))) {
                changed.add(k);
            }
        }
        return changed;
    }

    private static boolean running(String k) {
        return k.contains("running");
    }

    @Test
    void abTrainsStudentFeaturesAndConnectorsOnly() throws IOException {
        // tiny_wide-like mismatch: a resnet8 teacher and student share shapes, so AB's connectors
        // are identities and only the student's feature modules train
        Snapshots s = runInitOnly("ab", "ab", "{init_epochs: 3}");
        Set<String> changed = changed(s);
        for (String k : s.snaps.get(0).keySet()) {
            boolean classifier = k.contains("classifier");
            if (running(k)) {
                assertTrue(changed.contains(k), "BatchNorm statistics move in training mode " + k);
            } else if (classifier) {
                assertFalse(changed.contains(k), "the classifier stays: " + k);
                assertFalse(s.initTrained.contains(k), k);
            } else {
                assertTrue(changed.contains(k), "a feature parameter trains: " + k);
                assertTrue(s.initTrained.contains(k), k);
            }
        }
    }

    @Test
    void fspTrainsStudentFeaturesOnly() throws IOException {
        Snapshots s = runInitOnly("fsp", "fsp", "{init_epochs: 3}");
        Set<String> changed = changed(s);
        for (String k : s.snaps.get(0).keySet()) {
            if (!running(k)) {
                assertEquals(!k.contains("classifier"), changed.contains(k), k);
                assertEquals(!k.contains("classifier"), s.initTrained.contains(k), k);
            }
        }
    }

    @Test
    void ftTrainsTheParaphraserOnly() throws IOException {
        Snapshots s = runInitOnly("ft", "ft", "{init_epochs: 3, init_lr: 0.2}");
        Set<String> changed = changed(s);
        int paraphraser = 0;
        for (String k : s.snaps.get(0).keySet()) {
            boolean p = k.contains("paraphraser");
            paraphraser += p ? 1 : 0;
            assertEquals(p, changed.contains(k), k); // student, its BN statistics, translator stay
            assertEquals(p, s.initTrained.contains(k), k);
        }
        assertEquals(12, paraphraser); // 6 convolutions x (weight, bias)
        assertTrue(s.trainable.containsAll(s.initTrained));
    }

    @Test
    void runInterruptedInTheInitStageResumesExactly() throws Exception {
        String options = "{init_epochs: 2, alpha: 0.5}";
        Path full = tmp.resolve("full");
        RunResult a =
                TrainingRun.execute(
                        config(full, "ab", options, 2), full, false, Catalog.standard());
        Path cut = tmp.resolve("cut");
        TrainingRun.execute(
                config(cut, "ab", options, 2), cut, false, Catalog.standard(), 1, (k, v) -> {});
        try (NDManager m = NDManager.newBaseManager()) {
            Checkpoint ck = Checkpoint.read(cut.resolve(Checkpoint.FILE), m);
            assertEquals(0, ck.epochsDone()); // "killed" after init epoch 1 of 2
            assertEquals(1, ck.initEpochsDone());
            assertTrue(ck.momentum().size() > 0, "the init optimiser's momentum is saved");
        }
        RunResult b =
                TrainingRun.execute(config(cut, "ab", options, 2), cut, true, Catalog.standard());
        assertEquals(a.history().size(), b.history().size());
        for (int i = 0; i < a.history().size(); i++) {
            assertEquals(a.history().get(i).trainTerms(), b.history().get(i).trainTerms());
            assertEquals(a.history().get(i).testTop1(), b.history().get(i).testTop1());
        }
        assertArrayEquals(
                Files.readAllBytes(full.resolve(TrainingRun.MODEL_FILE)),
                Files.readAllBytes(cut.resolve(TrainingRun.MODEL_FILE)));
        assertEquals(
                Files.readAllLines(full.resolve(RunFiles.INIT_CSV)).size(),
                Files.readAllLines(cut.resolve(RunFiles.INIT_CSV)).size());
        try (NDManager m = NDManager.newBaseManager()) {
            Checkpoint x = Checkpoint.read(full.resolve(Checkpoint.FILE), m);
            Checkpoint y = Checkpoint.read(cut.resolve(Checkpoint.FILE), m);
            assertEquals(2, y.initEpochsDone());
            for (int i = 0; i < 2; i++) {
                assertEquals(
                        x.initHistory().get(i).trainTerms(), y.initHistory().get(i).trainTerms());
            }
            assertSameArrays(x.parameters(), y.parameters());
            assertSameArrays(x.momentum(), y.momentum());
        }
    }

    private static void assertSameArrays(NDList a, NDList b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getName(), b.get(i).getName());
            assertArrayEquals(a.get(i).toByteArray(), b.get(i).toByteArray(), a.get(i).getName());
        }
    }
}
