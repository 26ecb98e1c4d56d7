package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 items 3-5 through the real loop: one run per folder, a loss guard that stops diverging
 * or all-skipped epochs without overwriting the last good checkpoint, and files that are verified
 * when read back (checkpoint, teacher parameters). Tiny networks on synthetic data, CPU, seconds.
 */
class RunSafetyTest {

    private static final Catalog CATALOG = new TestCatalog();

    @TempDir Path tmp;

    private static final String DATA =
            "data: {name: synthetic, batch_size: 16, test_batch_size: 64,"
                    + " synthetic: {train_size: 96, test_size: 64, classes: 4, channels: 2, size: 6}}\n";

    private static RunConfig train(Path out, int epochs, String... overrides) {
        return ConfigLoader.fromString(
                "kind: train\nseed: 3\n"
                        + DATA
                        + "model: {name: tiny}\n"
                        + "optim: {lr: 0.1, epochs: "
                        + epochs
                        + ", milestones: []}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 2, progress_seconds: 100}\n",
                List.of(overrides),
                CATALOG);
    }

    private static RunConfig distill(Path out, Path teacher) {
        return ConfigLoader.fromString(
                "kind: distill\nseed: 5\n"
                        + DATA
                        + "model: {name: tiny}\n"
                        + "teacher: {name: tiny_wide, checkpoint: "
                        + teacher
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: 1, milestones: []}\n"
                        + "distill: {method: testbuf, options: {kd_weight: 0.9, hint_weight: 1.0}}\n"
                        + "output: {dir: "
                        + out
                        + ", progress_seconds: 100}\n",
                List.of(),
                CATALOG);
    }

    // ---- item 3: one run per output.dir -------------------------------------------------------

    @Test
    void secondRunOnAFolderIsRefusedAndTheFirstIsUnaffected() throws Exception {
        Path dir = tmp.resolve("shared");
        String owner = "is in use by crcd run pid " + ProcessHandle.current().pid();
        List<ConfigException> refused = new java.util.ArrayList<>();
        // The second runs start while the first is between its epochs 1 and 2 (from its probe:
        // the same thread, since libtorch's grad mode is per thread), resuming or fresh, with
        // another config. Today's main let the resuming one run to the end.
        RunResult r =
                TrainingRun.execute(
                        train(dir, 2),
                        dir,
                        false,
                        CATALOG,
                        Integer.MAX_VALUE,
                        (k, v) -> {
                            if ("arrays".equals(k) && refused.isEmpty()) {
                                for (boolean resume : new boolean[] {true, false}) {
                                    refused.add(
                                            assertThrows(
                                                    ConfigException.class,
                                                    () ->
                                                            TrainingRun.execute(
                                                                    train(dir, 3, "optim.lr=0.02"),
                                                                    dir,
                                                                    resume,
                                                                    CATALOG)));
                                }
                            }
                        });
        assertEquals(2, refused.size());
        for (ConfigException e : refused) {
            assertTrue(
                    e.getMessage().startsWith("output.dir: " + dir + " " + owner), e.getMessage());
            assertTrue(
                    e.getMessage().endsWith("wait for it to finish or choose another output.dir"));
            assertEquals(1, e.getMessage().lines().count());
        }
        // the first run is unaffected: its config, its two epochs, its model; the lock is gone
        assertEquals(2, r.history().size());
        String yaml = Files.readString(dir.resolve(TrainingRun.CONFIG_FILE));
        assertTrue(yaml.contains("lr: 0.1"), yaml);
        assertTrue(yaml.contains("epochs: 2"), yaml);
        assertEquals(3, Files.readAllLines(dir.resolve("metrics.csv")).size()); // header + 2
        assertTrue(Files.isRegularFile(dir.resolve(TrainingRun.MODEL_FILE)));
        assertTrue(Files.notExists(dir.resolve("run.lock")), "lock released");
        // and a later run may resume the finished folder (nothing left to do)
        assertEquals(2, TrainingRun.execute(train(dir, 2), dir, true, CATALOG).history().size());
    }

    @Test
    void staleLockOfADeadProcessIsTakenOverAndReleased() throws Exception {
        Path hostFile = Path.of("/proc/sys/kernel/hostname");
        assumeTrue(Files.isReadable(hostFile), "Linux host name");
        Process p =
                new ProcessBuilder(
                                ProcessHandle.current().info().command().orElse("java"), "-version")
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        Path dir = Files.createDirectories(tmp.resolve("stale"));
        Path lock = dir.resolve("run.lock");
        Files.writeString(
                lock,
                "pid="
                        + p.pid()
                        + "\nhost="
                        + Files.readString(hostFile).trim()
                        + "\nstarted=2026-01-01T00:00:00Z\nprocess_start=-1\ntoken=dead\n");
        RunResult r = TrainingRun.execute(train(dir, 1), dir, false, CATALOG);
        assertEquals(1, r.history().size());
        assertTrue(Files.notExists(lock), "the stale lock was taken over and released");
    }

    @Test
    void lockOfAnotherHostIsRefused() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("remote"));
        Path lock = dir.resolve("run.lock");
        Files.writeString(
                lock, "pid=77\nhost=elsewhere.invalid\nstarted=2026-01-01T00:00:00Z\ntoken=x\n");
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> TrainingRun.execute(train(dir, 1), dir, false, CATALOG));
        assertTrue(e.getMessage().contains("pid 77 on host elsewhere.invalid"), e.getMessage());
        assertTrue(e.getMessage().endsWith("delete " + lock), e.getMessage());
        assertEquals(List.of("run.lock"), List.of(dir.toFile().list())); // nothing written
    }

    // ---- item 4: the loss guard ---------------------------------------------------------------

    @Test
    void epochWithEveryStepSkippedStopsAndKeepsTheCheckpoint() throws Exception {
        Path dir = tmp.resolve("skip");
        TrainingRun.execute(train(dir, 2), dir, false, CATALOG, 1, (k, v) -> {});
        byte[] good = Files.readAllBytes(dir.resolve("checkpoint.ckpt"));
        byte[] metrics = Files.readAllBytes(dir.resolve("metrics.csv"));
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () ->
                                TrainingRun.execute(
                                        train(dir, 2, "optim.lr=1e30", "nan_policy=skip"),
                                        dir,
                                        true,
                                        CATALOG));
        assertTrue(e.getMessage().startsWith("epoch 2 skipped "), e.getMessage());
        assertTrue(e.getMessage().contains("guard.nan_skip_limit = 0.1"), e.getMessage());
        assertTrue(
                e.getMessage().contains("the last good checkpoint (epoch 1) was kept"),
                e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(dir.resolve("checkpoint.ckpt")));
        assertArrayEquals(metrics, Files.readAllBytes(dir.resolve("metrics.csv")));

        // a fresh run whose steps after the first are all skipped writes no checkpoint and no
        // metrics row (main wrote both and exited 0)
        Path fresh = tmp.resolve("skip-fresh");
        TrainingException f =
                assertThrows(
                        TrainingException.class,
                        () ->
                                TrainingRun.execute(
                                        train(fresh, 1, "optim.lr=1e30", "nan_policy=skip"),
                                        fresh,
                                        false,
                                        CATALOG));
        assertTrue(
                f.getMessage().startsWith("epoch 1 skipped 1 of its first 2 steps"),
                f.getMessage());
        assertTrue(f.getMessage().contains("no checkpoint was written"), f.getMessage());
        assertTrue(Files.notExists(fresh.resolve("checkpoint.ckpt")));
        assertTrue(Files.notExists(fresh.resolve("metrics.csv")));
    }

    @Test
    void finiteDivergenceAfterResumeStopsAndKeepsTheCheckpoint() throws Exception {
        Path dir = tmp.resolve("diverge");
        RunResult one = TrainingRun.execute(train(dir, 3), dir, false, CATALOG, 1, (k, v) -> {});
        double reference = one.history().get(0).trainLoss();
        byte[] good = Files.readAllBytes(dir.resolve("checkpoint.ckpt"));
        // the loss is scaled by 1e4: finite, far above 100 x the first epoch's mean
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () ->
                                TrainingRun.execute(
                                        train(dir, 3, "loss.ce_weight=1e4"), dir, true, CATALOG));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("loss diverged at epoch 2 step 1: total "), msg);
        assertTrue(msg.contains("guard.divergence_factor"), msg);
        assertTrue(
                msg.contains(
                        String.format(
                                java.util.Locale.ROOT, "100.0 x %.4g", Math.max(reference, 1))),
                msg);
        assertTrue(msg.contains("the last good checkpoint (epoch 1) was kept"), msg);
        assertArrayEquals(good, Files.readAllBytes(dir.resolve("checkpoint.ckpt")));
        assertTrue(Files.notExists(dir.resolve(TrainingRun.MODEL_FILE)));

        // resuming with the original config continues from the kept checkpoint
        RunResult rest = TrainingRun.execute(train(dir, 3), dir, true, CATALOG);
        assertEquals(3, rest.history().size());
    }

    @Test
    void lossAboveMaxLossFromTheFirstStepStops() {
        Path dir = tmp.resolve("huge");
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () ->
                                TrainingRun.execute(
                                        train(dir, 1, "loss.ce_weight=1e7"), dir, false, CATALOG));
        assertTrue(
                e.getMessage().startsWith("loss diverged at epoch 1 step 1: total "),
                e.getMessage());
        assertTrue(e.getMessage().contains("> guard.max_loss = 1.000e+06"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("checkpoint.ckpt")));
        // with both checks off the same run completes (the guard is what stopped it)
        RunResult r =
                TrainingRun.execute(
                        train(
                                dir,
                                1,
                                "loss.ce_weight=1e7",
                                "guard.max_loss=0",
                                "guard.divergence_factor=0"),
                        dir,
                        false,
                        CATALOG);
        assertEquals(1, r.history().size());
    }

    // ---- item 5: integrity of the files crcd reads back ---------------------------------------

    private static void overwrite(Path file, long at, int n) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            byte[] b = new byte[n];
            f.readFully(b);
            for (int i = 0; i < n; i++) {
                b[i] = (byte) ~b[i];
            }
            f.seek(at);
            f.write(b);
        }
    }

    private static void truncate(Path file, long size) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    @Test
    void damagedCheckpointIsNamedAsCorruptOnResume() throws Exception {
        Path dir = tmp.resolve("ckpt");
        TrainingRun.execute(train(dir, 2), dir, false, CATALOG, 1, (k, v) -> {});
        Path ckpt = dir.resolve("checkpoint.ckpt");
        byte[] good = Files.readAllBytes(ckpt);
        overwrite(ckpt, good.length / 2, 8); // 8 bytes inside the parameters
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> TrainingRun.execute(train(dir, 2), dir, true, CATALOG));
        assertTrue(e.getMessage().startsWith(ckpt + ": corrupt: SHA-256 mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("delete it and start the run again"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());

        Files.write(ckpt, good);
        truncate(ckpt, good.length * 2 / 3);
        ConfigException t =
                assertThrows(
                        ConfigException.class,
                        () -> TrainingRun.execute(train(dir, 2), dir, true, CATALOG));
        assertTrue(t.getMessage().startsWith(ckpt + ": corrupt: cut short"), t.getMessage());

        Files.write(ckpt, good);
        assertEquals(2, TrainingRun.execute(train(dir, 2), dir, true, CATALOG).history().size());
    }

    /** Writes the parameters of an initialised tiny_wide, optionally with one NaN weight. */
    private Path teacherFile(String name, boolean nan) throws Exception {
        Path file = tmp.resolve(name + "/model.params");
        try (NDManager m = NDManager.newBaseManager()) {
            TinyNet t = new TinyNet(4, 32);
            t.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
            if (nan) {
                Parameter w = null;
                for (Pair<String, Parameter> p : t.getParameters()) {
                    if (p.getKey().contains("conv2") && p.getKey().endsWith("weight")) {
                        w = p.getValue();
                    }
                }
                w.getArray().set(new NDIndex("0, 0, 1, 1"), Float.NaN); // (32, 32, 3, 3)
            }
            ParameterFiles.save(t, file);
        }
        return file;
    }

    @Test
    void damagedOrTruncatedTeacherIsRejectedNamingTheFile() throws Exception {
        Path teacher = teacherFile("t-damaged", false);
        long size = Files.size(teacher);
        overwrite(teacher, size / 2, 8);
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        distill(tmp.resolve("d1"), teacher),
                                        tmp.resolve("d1"),
                                        false,
                                        CATALOG));
        assertTrue(
                e.getMessage().startsWith("teacher.checkpoint: " + teacher + ": corrupt: SHA-256"),
                e.getMessage());

        Path cut = teacherFile("t-cut", false);
        truncate(cut, Files.size(cut) / 2);
        ConfigException c =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        distill(tmp.resolve("d2"), cut),
                                        tmp.resolve("d2"),
                                        false,
                                        CATALOG));
        assertTrue(
                c.getMessage().startsWith("teacher.checkpoint: " + cut + ": cut short"),
                c.getMessage());
        assertEquals(1, c.getMessage().lines().count());
    }

    @Test
    void teacherWithANonFiniteWeightIsRejectedNamingTheParameter() throws Exception {
        Path teacher = teacherFile("t-nan", true);
        String name;
        try (NDManager m = NDManager.newBaseManager()) {
            NDList l = NDList.decode(m, Files.readAllBytes(teacher)); // still DJL's format
            NDArray w = null;
            for (NDArray a : l) {
                if (a.getName().contains("conv2") && a.getShape().dimension() == 4) {
                    w = a;
                }
            }
            assertTrue(
                    Float.isNaN(w.toFloatArray()[4]), "one NaN written at conv2.weight[0,0,1,1]");
            name = w.getName();
        }
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        distill(tmp.resolve("d3"), teacher),
                                        tmp.resolve("d3"),
                                        false,
                                        CATALOG));
        assertEquals(
                "teacher.checkpoint: "
                        + teacher
                        + ": parameter '"
                        + name
                        + "' holds 1 non-finite value(s) (NaN or infinity) of 9216; the network"
                        + " that wrote it had diverged or the file is damaged; restore a copy of"
                        + " it, or run the training that wrote it again",
                e.getMessage());
    }

    @Test
    void teacherWrittenWithoutChecksumStillLoads() throws Exception {
        Path sealed = teacherFile("t-legacy", false);
        Path legacy = tmp.resolve("t-legacy/legacy.params");
        try (NDManager m = NDManager.newBaseManager()) {
            Files.write(legacy, NDList.decode(m, Files.readAllBytes(sealed)).encode());
        }
        assertTrue(Files.size(legacy) < Files.size(sealed));
        RunResult r =
                TrainingRun.execute(
                        distill(tmp.resolve("d4"), legacy), tmp.resolve("d4"), false, CATALOG);
        assertEquals(1, r.history().size());
        // a legacy file cut short has no checksum to say so, but does not decode: corrupt
        truncate(legacy, Files.size(legacy) - 100);
        ConfigException c =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        distill(tmp.resolve("d5"), legacy),
                                        tmp.resolve("d5"),
                                        false,
                                        CATALOG));
        assertTrue(
                c.getMessage().startsWith("teacher.checkpoint: " + legacy + ": cut short"),
                c.getMessage());
    }
}
