package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end runs on synthetic data with tiny networks (CPU, seconds). */
class TrainingRunTest {

    private static final Catalog CATALOG = new TestCatalog();

    @TempDir static Path tmp;
    private static Path teacherParams;

    private static String data() {
        return "data: {name: synthetic, batch_size: 16, test_batch_size: 64,"
                + " synthetic: {train_size: 96, test_size: 64, classes: 4, channels: 2, size: 6}}\n";
    }

    private static RunConfig teacherConfig(Path out) {
        return ConfigLoader.fromString(
                "kind: train\nseed: 3\n"
                        + data()
                        + "model: {name: tiny_wide}\n"
                        + "optim: {lr: 0.1, epochs: 3, milestones: [2]}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 2}\n",
                List.of(),
                CATALOG);
    }

    private static RunConfig studentConfig(Path out, int epochs) {
        return ConfigLoader.fromString(
                "kind: distill\nseed: 5\n"
                        + data()
                        + "model: {name: tiny}\n"
                        + "teacher: {name: tiny_wide, checkpoint: "
                        + teacherParams
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: "
                        + epochs
                        + ", milestones: [2]}\n"
                        + "loss: {ce_weight: 0.5}\n"
                        + "distill: {method: testbuf, options: {kd_weight: 0.9, hint_weight: 1.0}}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 4}\n",
                List.of(),
                CATALOG);
    }

    @BeforeAll
    static void trainTeacher() {
        Path dir = tmp.resolve("teacher");
        RunResult r = TrainingRun.execute(teacherConfig(dir), dir, false, CATALOG);
        teacherParams = dir.resolve(TrainingRun.MODEL_FILE);
        assertTrue(Files.isRegularFile(teacherParams));
        assertEquals(3, r.history().size());
        // lr per epoch: 0.1 for epochs 1-2, then x0.1 from the milestone
        assertEquals(0.1, r.history().get(0).lr(), 1e-7);
        assertEquals(0.1, r.history().get(1).lr(), 1e-7);
        assertEquals(0.01, r.history().get(2).lr(), 1e-7);
        // separable synthetic data: the teacher learns it
        assertTrue(r.lastTop1() > 50, "teacher top-1 " + r.lastTop1());
    }

    @Test
    void distillWritesAllOutputsAndLeavesTeacherUntouched() throws Exception {
        Path dir = tmp.resolve("student");
        Map<String, Object> seen = new HashMap<>();
        List<Integer> arrays = new ArrayList<>();
        RunResult r =
                TrainingRun.execute(
                        studentConfig(dir, 3),
                        dir,
                        false,
                        CATALOG,
                        Integer.MAX_VALUE,
                        (k, v) -> {
                            if ("arrays".equals(k)) {
                                arrays.add((Integer) v);
                            } else if ("teacher".equals(k)) {
                                // snapshot while the run's manager is open
                                Map<String, float[]> snap = new HashMap<>();
                                for (NDArray a : ParameterFiles.toNDList((Block) v)) {
                                    snap.put(a.getName(), a.toFloatArray());
                                }
                                seen.put(k, snap);
                            }
                        });
        for (String f :
                List.of(
                        "config.yaml",
                        "metrics.csv",
                        "metrics.jsonl",
                        "curves.png",
                        "model.params",
                        "summary.md",
                        "checkpoint.ckpt")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertEquals(4, Files.readAllLines(dir.resolve("metrics.csv")).size()); // header + 3
        assertEquals(3, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
        String header = Files.readAllLines(dir.resolve("metrics.csv")).get(0);
        assertEquals(
                "epoch,lr,train_loss,train_ce,train_kd,train_hint,train_buf,train_top1,test_loss,"
                        + "test_top1,test_top5,seconds,device",
                header);
        // metrics.jsonl: the same snake_case keys as the CSV header, in the same order
        Map<String, Object> json =
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .readValue(
                                Files.readAllLines(dir.resolve("metrics.jsonl")).get(2),
                                new com.fasterxml.jackson.core.type.TypeReference<
                                        java.util.LinkedHashMap<String, Object>>() {});
        assertEquals(List.of(header.split(",")), new ArrayList<>(json.keySet()));
        assertEquals("cpu()", json.get("device"));
        EpochMetrics last = r.history().get(2);
        assertEquals(
                List.of("ce", "kd", "hint", "buf"), new ArrayList<>(last.trainTerms().keySet()));
        double sum = last.trainTerms().values().stream().mapToDouble(Double::doubleValue).sum();
        assertEquals(sum, last.trainLoss(), 1e-9);
        assertEquals(100.0, last.testTop5(), 1e-9); // 4 classes: the top 5 always hold the truth
        // train accuracy is a fraction of 96 images, test loss a finite positive cross-entropy
        assertTrue(last.trainTop1() >= 0 && last.trainTop1() <= 100, "" + last.trainTop1());
        assertEquals(0.0, (last.trainTop1() * 96 / 100) % 1.0, 1e-6);
        assertTrue(last.testLoss() > 0 && Double.isFinite(last.testLoss()), "" + last.testLoss());
        assertTrue(Files.readString(dir.resolve("summary.md")).contains("teacher top-1"));

        // The teacher's parameters and BatchNorm statistics are bit-identical to its file.
        @SuppressWarnings("unchecked")
        Map<String, float[]> now = (Map<String, float[]>) seen.get("teacher");
        try (NDManager m = NDManager.newBaseManager()) {
            NDList saved = NDList.decode(m, Files.readAllBytes(teacherParams));
            assertEquals(saved.size(), now.size());
            int bnStats = 0;
            for (NDArray a : saved) {
                assertArrayEquals(a.toFloatArray(), now.get(a.getName()), 0f, a.getName());
                if (a.getName().contains("running")) {
                    bnStats++;
                }
            }
            assertEquals(4, bnStats); // two BatchNorms x (running mean, running var)
        }
        // No per-step array survives an epoch: the count of live arrays is flat.
        assertEquals(3, arrays.size());
        assertEquals(arrays.get(1), arrays.get(2), "live arrays per epoch " + arrays);
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws Exception {
        Path full = tmp.resolve("full");
        RunResult a = TrainingRun.execute(studentConfig(full, 3), full, false, CATALOG);

        Path cut = tmp.resolve("cut");
        RunResult first =
                TrainingRun.execute(studentConfig(cut, 3), cut, false, CATALOG, 1, (k, v) -> {});
        assertEquals(1, first.history().size());
        assertTrue(Files.notExists(cut.resolve("model.params"))); // "killed" after epoch 1
        ConfigException again =
                assertThrows(
                        ConfigException.class,
                        () -> TrainingRun.execute(studentConfig(cut, 3), cut, false, CATALOG));
        assertTrue(again.getMessage().contains("--resume"), again.getMessage());
        RunResult b = TrainingRun.execute(studentConfig(cut, 3), cut, true, CATALOG);

        assertEquals(a.history().size(), b.history().size());
        for (int i = 0; i < a.history().size(); i++) {
            EpochMetrics x = a.history().get(i);
            EpochMetrics y = b.history().get(i);
            assertEquals(x.trainTerms(), y.trainTerms(), "epoch " + (i + 1));
            assertEquals(x.trainLoss(), y.trainLoss());
            assertEquals(x.testTop1(), y.testTop1());
            assertEquals(x.trainTop1(), y.trainTop1());
            assertEquals(x.testLoss(), y.testLoss());
            assertEquals(x.testTop5(), y.testTop5());
            assertEquals(x.lr(), y.lr());
        }
        assertArrayEquals(
                Files.readAllBytes(full.resolve("model.params")),
                Files.readAllBytes(cut.resolve("model.params")));
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastCheckpoint() throws Exception {
        Path dir = tmp.resolve("nan");
        RunConfig cfg = studentConfig(dir, 3);
        TrainingRun.execute(cfg, dir, false, CATALOG, 1, (k, v) -> {});
        byte[] good = Files.readAllBytes(dir.resolve("checkpoint.ckpt"));
        RunConfig bad =
                ConfigLoader.fromString(
                        ConfigLoader.toYaml(cfg), List.of("optim.lr=1e30"), CATALOG);
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () -> TrainingRun.execute(bad, dir, true, CATALOG));
        assertTrue(e.getMessage().startsWith("non-finite loss at epoch 2 step "), e.getMessage());
        assertTrue(e.getMessage().contains("term '"), e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(dir.resolve("checkpoint.ckpt")));

        Path skipDir = tmp.resolve("skip");
        RunConfig skip =
                ConfigLoader.fromString(
                        ConfigLoader.toYaml(cfg),
                        List.of(
                                "optim.lr=1e30",
                                "nan_policy=skip",
                                "optim.epochs=1",
                                "output.dir=" + skipDir),
                        CATALOG);
        // steps 2.. of the epoch are non-finite: skipping them all would leave a NaN or
        // one-step epoch; the guard stops at the first skip over guard.nan_skip_limit (0.1)
        TrainingException s =
                assertThrows(
                        TrainingException.class,
                        () -> TrainingRun.execute(skip, skipDir, false, CATALOG));
        assertTrue(
                s.getMessage().startsWith("epoch 1 skipped 1 of its first 2 steps"),
                s.getMessage());
        assertTrue(Files.notExists(skipDir.resolve("checkpoint.ckpt")));
    }

    @Test
    void listenersFromTheLibraryAndFromTheConfig() throws Exception {
        Path dir = tmp.resolve("listeners");
        RunConfig cfg =
                ConfigLoader.fromString(
                        ConfigLoader.toYaml(studentConfig(dir, 2)),
                        List.of("output.log_file=train.log", "output.log_interval=4"),
                        CATALOG);
        List<String> calls = new ArrayList<>();
        RunResult r =
                TrainingRun.builder(cfg, dir)
                        .optCatalog(CATALOG)
                        .addListener(
                                new ai.crcd.train.loop.RunListener() {
                                    @Override
                                    public void onRunBegin(ai.crcd.train.loop.RunContext run) {
                                        calls.add("begin " + run.device());
                                    }

                                    @Override
                                    public void onStepsSynced(
                                            ai.crcd.train.loop.RunContext run,
                                            ai.crcd.train.loop.StepLog log) {
                                        calls.add("sync " + log.rows().size());
                                    }

                                    @Override
                                    public void onEpoch(
                                            ai.crcd.train.loop.RunContext run, EpochMetrics m) {
                                        calls.add("epoch " + m.epoch());
                                    }

                                    @Override
                                    public void onRunEnd(
                                            ai.crcd.train.loop.RunContext run, RunResult res) {
                                        calls.add("end " + res.history().size());
                                    }
                                })
                        .build()
                        .run();
        // 6 steps per epoch, log interval 4: one sync of 4 rows and one of 2 per epoch
        assertEquals(
                List.of(
                        "begin cpu()",
                        "sync 4",
                        "sync 2",
                        "epoch 1",
                        "sync 4",
                        "sync 2",
                        "epoch 2",
                        "end 2"),
                calls);
        List<String> log = Files.readAllLines(dir.resolve("train.log"));
        assertEquals(4, log.size(), "" + log); // begin, 2 epochs, end
        assertTrue(log.get(2).contains("epoch {epoch=2, lr="), log.get(2));
        assertTrue(
                log.get(3).contains("end after 2 epochs, last top-1 " + r.lastTop1()), log.get(3));
        ConfigException bad =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.fromString(
                                        ConfigLoader.toYaml(cfg),
                                        List.of("output.log_file=../x.log"),
                                        CATALOG));
        assertTrue(bad.getMessage().contains("output.log_file: got '../x.log'"), bad.getMessage());
    }

    @Test
    void missingTeacherCheckpointIsAConfigError() {
        Path dir = tmp.resolve("missing");
        RunConfig cfg = studentConfig(dir, 1);
        cfg.teacher.checkpoint = tmp.resolve("nope/model.params").toString();
        ConfigException e =
                assertThrows(
                        ConfigException.class, () -> TrainingRun.execute(cfg, dir, false, CATALOG));
        assertTrue(e.getMessage().startsWith("teacher.checkpoint: got '"), e.getMessage());
        assertTrue(e.getMessage().contains("nope/model.params"), e.getMessage());
    }
}
