package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks a run makes before it trains (issue 11, items 8 and 9): resuming another method or
 * fewer epochs, a truncated checkpoint, a method that cannot fit in memory, the resolved config
 * written only after the checks, the device in the summary. Synthetic data, tiny networks.
 */
class RunChecksTest {

    private static final Catalog CATALOG = new TestCatalog();

    @TempDir static Path tmp;
    private static Path teacherParams;

    private static String data() {
        return "data: {name: synthetic, batch_size: 16, test_batch_size: 64,"
                + " synthetic: {train_size: 48, test_size: 32, classes: 4, channels: 2, size: 6}}\n";
    }

    private static RunConfig student(Path out, int epochs, String method, String options) {
        return ConfigLoader.fromString(
                "kind: distill\nseed: 5\ndevice: cpu\n"
                        + data()
                        + "model: {name: tiny}\n"
                        + "teacher: {name: tiny_wide, checkpoint: "
                        + teacherParams
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: "
                        + epochs
                        + ", milestones: []}\n"
                        + "distill: {method: "
                        + method
                        + ", options: "
                        + options
                        + "}\n"
                        + "output: {dir: "
                        + out
                        + ", log_interval: 4}\n",
                List.of(),
                CATALOG);
    }

    @BeforeAll
    static void trainTeacher() {
        Path dir = tmp.resolve("teacher");
        RunConfig t =
                ConfigLoader.fromString(
                        "kind: train\nseed: 3\n"
                                + data()
                                + "model: {name: tiny_wide}\n"
                                + "optim: {lr: 0.1, epochs: 1, milestones: []}\n"
                                + "output: {dir: "
                                + dir
                                + "}\n",
                        List.of(),
                        CATALOG);
        TrainingRun.execute(t, dir, false, CATALOG);
        teacherParams = dir.resolve(TrainingRun.MODEL_FILE);
    }

    @Test
    void resumingAnotherMethodNamesTheKeyAndKeepsTheFolder() throws Exception {
        Path dir = tmp.resolve("method");
        TrainingRun.execute(student(dir, 2, "kd", "{}"), dir, false, CATALOG, 1, (k, v) -> {});
        byte[] cfg = Files.readAllBytes(dir.resolve("config.yaml"));
        byte[] ckpt = Files.readAllBytes(dir.resolve("checkpoint.ckpt"));
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        student(dir, 2, "testbuf", "{}"), dir, true, CATALOG));
        String m = e.getMessage();
        assertTrue(m.startsWith("distill.method: got 'testbuf'"), m);
        assertTrue(m.contains("holds a run with distill.method 'kd'"), m);
        assertTrue(m.contains("set distill.method: kd"), m);
        assertEquals(1, m.lines().count(), m);
        // a refused resume changes nothing in the folder
        assertTrue(java.util.Arrays.equals(cfg, Files.readAllBytes(dir.resolve("config.yaml"))));
        assertTrue(
                java.util.Arrays.equals(ckpt, Files.readAllBytes(dir.resolve("checkpoint.ckpt"))));
    }

    @Test
    void resumingWithChangedMethodOptionsIsOneLine() throws Exception {
        Path dir = tmp.resolve("options");
        TrainingRun.execute(
                student(dir, 2, "crcd", "{negatives: 8, relation_dim: 8, critic_dim: 4}"),
                dir,
                false,
                CATALOG,
                1,
                (k, v) -> {});
        byte[] cfg = Files.readAllBytes(dir.resolve("config.yaml"));
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        student(
                                                dir,
                                                2,
                                                "crcd",
                                                "{negatives: 8, relation_dim: 6, critic_dim: 4}"),
                                        dir,
                                        true,
                                        CATALOG));
        String m = e.getMessage();
        assertTrue(m.contains("another model, method or method options"), m);
        assertTrue(m.contains("config.yaml"), m);
        assertEquals(1, m.lines().count(), m);
        assertTrue(java.util.Arrays.equals(cfg, Files.readAllBytes(dir.resolve("config.yaml"))));
    }

    @Test
    void resumingWithFewerEpochsThanDoneIsAnError() {
        Path dir = tmp.resolve("epochs");
        TrainingRun.execute(student(dir, 2, "kd", "{}"), dir, false, CATALOG);
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> TrainingRun.execute(student(dir, 1, "kd", "{}"), dir, true, CATALOG));
        assertTrue(
                e.getMessage().startsWith("optim.epochs: got '1', allowed: at least 2"),
                e.getMessage());
    }

    @Test
    void truncatedCheckpointIsDescribedInPlainWords() throws Exception {
        Path dir = tmp.resolve("truncated");
        TrainingRun.execute(student(dir, 2, "kd", "{}"), dir, false, CATALOG, 1, (k, v) -> {});
        Path ckpt = dir.resolve("checkpoint.ckpt");
        byte[] all = Files.readAllBytes(ckpt);
        for (int keep : new int[] {10, 100, all.length / 2, all.length - 3}) {
            Files.write(ckpt, java.util.Arrays.copyOf(all, keep));
            // reported by the checksum trailer (a ConfigException) or, for a file that passes it,
            // by the reader (a TrainingException): either way plain words, one line
            RuntimeException e =
                    assertThrows(
                            RuntimeException.class,
                            () ->
                                    TrainingRun.execute(
                                            student(dir, 2, "kd", "{}"), dir, true, CATALOG));
            assertTrue(
                    e instanceof ConfigException || e instanceof TrainingException, e.toString());
            String m = e.getMessage();
            assertTrue(m.contains("truncated") || m.contains("cut short"), keep + ": " + m);
            assertFalse(m.contains("null"), m);
            assertTrue(m.contains("delete it") || m.contains("restore"), m);
            assertEquals(1, m.lines().count(), m);
        }
    }

    @Test
    void unreadableCheckpointIsDescribedWithoutJargon() {
        // what the reader throws for a file cut inside a block, and DJL's decoding failures
        assertTrue(
                RunFolder.unreadable(new java.io.EOFException())
                        .startsWith("the file is truncated"));
        assertTrue(
                RunFolder.unreadable(
                                new IllegalArgumentException("Malformed NDList, magic mismatch"))
                        .startsWith("the file is damaged or truncated"));
        assertEquals(
                "the file is damaged (NullPointerException)",
                RunFolder.unreadable(new NullPointerException()));
    }

    @Test
    void methodThatCannotFitIsRefusedBeforeAllocating() {
        Path dir = tmp.resolve("huge");
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        student(dir, 1, "crcd", "{negatives: 1000000000}"),
                                        dir,
                                        false,
                                        CATALOG));
        String m = e.getMessage();
        assertTrue(m.startsWith("distill.options: crcd with {negatives=1000000000}"), m);
        assertTrue(m.matches(".*needs about [0-9.]+ TB per training step.*"), m);
        assertFalse(Files.exists(dir.resolve("config.yaml")), "nothing written for a refused run");

        // the same for CRD's contrast set
        ConfigException crd =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        student(
                                                tmp.resolve("huge-crd"),
                                                1,
                                                "crd_kd",
                                                "{nce_k: 1000000000}"),
                                        tmp.resolve("huge-crd"),
                                        false,
                                        CATALOG));
        assertTrue(crd.getMessage().contains("needs about"), crd.getMessage());
    }

    @Test
    void budgetComparesTheEstimateWithTheAvailableMemory() {
        RunConfig cfg = student(tmp.resolve("b"), 1, "crcd", "{negatives: 4096}");
        Distiller d =
                Distillers.create(
                        "crcd", new DistillerOptions("distill.options", Map.of("negatives", 4096)));
        DistillSetup setup =
                DistillSetup.builder().setFeatureDims(64, 64).setNumClasses(10).build();
        long need = d.estimateStepBytes(setup, cfg.data.batchSize);
        assertEquals(need, MemoryBudget.check(cfg, d, setup, need, "test"));
        assertEquals(need, MemoryBudget.check(cfg, d, setup, -1, "unknown memory: no check"));
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> MemoryBudget.check(cfg, d, setup, need - 1, "a small device"));
        assertTrue(e.getMessage().contains("available on a small device"), e.getMessage());
        assertTrue(MemoryBudget.available(ai.djl.Device.cpu()) > 0);
    }

    @Test
    void summaryRecordsTheDevice() throws Exception {
        Path dir = tmp.resolve("device");
        RunConfig cfg = student(dir, 1, "kd", "{}");
        cfg.device = "auto";
        TrainingRun.execute(cfg, dir, false, CATALOG);
        String summary = Files.readString(dir.resolve("summary.md"));
        assertTrue(summary.contains("device"), summary);
        assertTrue(summary.contains(Devices.describe("auto", Devices.select("auto"))), summary);
    }

    @Test
    void nonFiniteLossInTheFirstEpochSaysNoCheckpointExists() {
        Path dir = tmp.resolve("nan-first");
        RunConfig cfg = student(dir, 1, "kd", "{}");
        cfg.optim.lr = 1e30;
        TrainingException e =
                assertThrows(
                        TrainingException.class,
                        () -> TrainingRun.execute(cfg, dir, false, CATALOG));
        assertTrue(e.getMessage().contains("no checkpoint was written"), e.getMessage());
        assertFalse(e.getMessage().contains("epoch 0"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("checkpoint.ckpt")));
    }
}
