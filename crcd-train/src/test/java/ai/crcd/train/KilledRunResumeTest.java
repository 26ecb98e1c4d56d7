package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.crcd.models.Models;
import ai.crcd.train.run.Checkpoint;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume through the real training loop and CLI after a hard kill: {@code crcd-train distill} runs
 * in a child JVM, is killed ({@code destroyForcibly}, SIGKILL) in the middle of epoch 2 (after the
 * checkpoint of epoch 1 exists), and is resumed with {@code --resume}; its final student
 * parameters, auxiliary parameters, optimiser momentum and distiller state must equal, bit for bit,
 * those of an uninterrupted run of the same config. Covers the distillers with mutable state: CRCD
 * with the {@code queue} and the {@code random} buffer, and CRD+KD (memory bank, negative sampler).
 *
 * <p>Tiny: resnet8 on 8x8 synthetic grey images, 4 classes, 6 steps per epoch, 2 epochs (the
 * resumed epoch starts at an lr milestone). The child gets this JVM's classpath and {@code
 * ai.djl.*} properties (one intra-op thread, as the surefire configuration; see docs/training.md,
 * "Determinism"), so both runs compute the same. The uninterrupted run goes on in this JVM while
 * the child runs.
 */
class KilledRunResumeTest {

    @TempDir static Path tmp;
    private static Path teacher;

    /** Any "epoch 2/..." progress line: the checkpoint of epoch 1 is written, epoch 2 runs. */
    private static final Pattern IN_EPOCH_2 = Pattern.compile(".*\\bepoch 2/2 step [1-4]/6\\b.*");

    @BeforeAll
    static void teacherParameters() throws IOException {
        // an untrained teacher is enough: resume exactness does not depend on its quality
        teacher = tmp.resolve("teacher.params");
        Engine.getInstance().setRandomSeed(99);
        try (NDManager m = NDManager.newBaseManager()) {
            Block net = Models.create("resnet8", 4, 1);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8));
            ParameterFiles.save(net, teacher);
        }
    }

    private static Path config(String name, Path out, String method, String options)
            throws IOException {
        String yaml =
                "kind: distill\n"
                        + "seed: 11\n"
                        + "data: {name: synthetic, batch_size: 8, test_batch_size: 16,"
                        + " synthetic: {train_size: 48, test_size: 16, classes: 4, channels: 1,"
                        + " size: 8}}\n"
                        + "model: {name: resnet8}\n"
                        + "teacher: {name: resnet8, checkpoint: "
                        + teacher
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: 2, milestones: [1]}\n"
                        + "distill: {method: "
                        + method
                        + ", options: "
                        + options
                        + "}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 1, progress_seconds: 0}\n";
        return Files.writeString(tmp.resolve(name + ".yaml"), yaml);
    }

    @Test
    void crcdWithQueueBuffer() throws Exception {
        killResumeAndCompare(
                "crcd-queue",
                "crcd",
                "{negatives: 12, relation_dim: 16, critic_dim: 8, buffer: queue}");
    }

    @Test
    void crcdWithRandomBuffer() throws Exception {
        killResumeAndCompare(
                "crcd-random",
                "crcd",
                "{negatives: 12, relation_dim: 16, critic_dim: 8, buffer: random}");
    }

    @Test
    void crdWithKd() throws Exception {
        killResumeAndCompare("crd-kd", "crd_kd", "{feat_dim: 16, nce_k: 24}");
    }

    /**
     * AB (#14): the progress line {@code distill ab init epoch 2/2 step s/6} of its 2-epoch init
     * stage matches first, so the child is killed inside the init stage (after the checkpoint of
     * init epoch 1, holding the init optimiser's momentum) and resumes there.
     */
    @Test
    void abKilledInItsInitStage() throws Exception {
        killResumeAndCompare("ab-init", "ab", "{init_epochs: 2, alpha: 0.5}");
    }

    private void killResumeAndCompare(String name, String method, String options) throws Exception {
        Path killedDir = tmp.resolve(name + "-killed");
        Path killedCfg = config(name + "-killed", killedDir, method, options);
        Path fullDir = tmp.resolve(name + "-full");
        Path fullCfg = config(name + "-full", fullDir, method, options);

        KilledChild child = new KilledChild(killedCfg);
        int fullExit = Main.run("distill", "--config", fullCfg.toString()); // meanwhile, here
        List<String> output = child.awaitKilled();
        assertEquals(0, fullExit, name + ": the uninterrupted run failed");
        assertTrue(
                Files.isRegularFile(killedDir.resolve(Checkpoint.FILE)), String.join("\n", output));
        assertTrue(
                Files.notExists(killedDir.resolve(TrainingRun.MODEL_FILE)),
                "the child finished before it was killed:\n" + String.join("\n", output));

        if (name.endsWith("-init")) { // killed inside the init stage: its checkpoint says so
            try (NDManager m = NDManager.newBaseManager()) {
                Checkpoint k = Checkpoint.read(killedDir.resolve(Checkpoint.FILE), m);
                assertEquals(0, k.epochsDone(), String.join("\n", output));
                assertEquals(1, k.initEpochsDone(), String.join("\n", output));
            }
        }
        assertEquals(0, Main.run("distill", "--config", killedCfg.toString(), "--resume"));

        assertArrayEquals(
                Files.readAllBytes(fullDir.resolve(TrainingRun.MODEL_FILE)),
                Files.readAllBytes(killedDir.resolve(TrainingRun.MODEL_FILE)),
                name + ": final student parameters");
        try (NDManager m = NDManager.newBaseManager()) {
            Checkpoint a = Checkpoint.read(fullDir.resolve(Checkpoint.FILE), m);
            Checkpoint b = Checkpoint.read(killedDir.resolve(Checkpoint.FILE), m);
            assertEquals(2, a.epochsDone());
            assertEquals(a.epochsDone(), b.epochsDone());
            assertEquals(a.step(), b.step());
            assertSame(name + " parameters", a.parameters(), b.parameters());
            assertSame(name + " momentum", a.momentum(), b.momentum());
            if (!a.distillerState().isEmpty() || !b.distillerState().isEmpty()) {
                assertSame(name + " distiller state", a.distillerState(), b.distillerState());
            }
            assertEquals(a.initEpochsDone(), b.initEpochsDone(), name + " init epochs");
            for (int i = 0; i < a.initHistory().size(); i++) {
                assertEquals(
                        a.initHistory().get(i).trainTerms(),
                        b.initHistory().get(i).trainTerms(),
                        name + " init epoch " + (i + 1));
            }
            for (int i = 0; i < a.history().size(); i++) {
                EpochMetrics x = a.history().get(i);
                EpochMetrics y = b.history().get(i);
                assertEquals(x.trainTerms(), y.trainTerms(), name + " epoch " + (i + 1));
                assertEquals(x.testTop1(), y.testTop1(), name + " epoch " + (i + 1));
            }
        }
    }

    /** Bit-for-bit equality of two lists of named arrays. */
    private static void assertSame(String what, NDList a, NDList b) {
        assertEquals(a.size(), b.size(), what);
        assertTrue(a.size() > 0, what);
        for (int i = 0; i < a.size(); i++) {
            NDArray x = a.get(i);
            NDArray y = b.get(i);
            assertEquals(x.getName(), y.getName(), what);
            assertEquals(x.getShape(), y.getShape(), what + " " + x.getName());
            assertArrayEquals(x.toByteArray(), y.toByteArray(), what + " " + x.getName());
        }
    }

    /**
     * {@code Main distill --config cfg} in a child JVM whose output reader kills it ({@code
     * destroyForcibly}) as soon as it reports a step of epoch 2, so the checkpoint of epoch 1 is on
     * disk and epoch 2 is half done. The killing happens on the reader's thread: this JVM's thread
     * runs the uninterrupted run meanwhile (DJL training must stay on the thread that started the
     * engine: libtorch's grad mode is per thread).
     */
    private static final class KilledChild {
        private final Process process;
        private final List<String> lines = new ArrayList<>();
        private final Thread reader;
        private volatile boolean killedInEpoch2;

        KilledChild(Path cfg) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-Xmx1g");
            for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
                String k = e.getKey().toString();
                if (k.startsWith("ai.djl.") || k.endsWith("CACHE_DIR")) {
                    cmd.add("-D" + k + "=" + e.getValue());
                }
            }
            String cp = System.getProperty("surefire.test.class.path");
            cmd.add("-cp");
            cmd.add(cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path"));
            cmd.add(Main.class.getName());
            cmd.add("distill");
            cmd.add("--config");
            cmd.add(cfg.toString());
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            reader = new Thread(this::read, "killer of " + cfg.getFileName());
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader r =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(l);
                    }
                    if (!killedInEpoch2 && IN_EPOCH_2.matcher(l).matches()) {
                        process.destroyForcibly(); // SIGKILL in the middle of epoch 2
                        killedInEpoch2 = true;
                    }
                }
            } catch (IOException e) {
                synchronized (lines) {
                    lines.add("(reader: " + e + ")");
                }
            }
        }

        /** Waits for the end of the child; fails unless it was killed in epoch 2. */
        List<String> awaitKilled() throws InterruptedException {
            boolean ended = process.waitFor(120, TimeUnit.SECONDS);
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            reader.join(5000);
            List<String> out;
            synchronized (lines) {
                out = new ArrayList<>(lines);
            }
            if (!ended || !killedInEpoch2) {
                fail(
                        (ended
                                        ? "the child exited (" + process.exitValue() + ")"
                                        : "the child hung")
                                + " before it could be killed in epoch 2:\n"
                                + String.join("\n", out));
            }
            return out;
        }
    }
}
