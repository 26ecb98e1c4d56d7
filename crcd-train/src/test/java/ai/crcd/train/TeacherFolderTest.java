package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.ConfigValidator;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code train} run's model folder serves as a teacher exactly as its {@code model.params} does
 * (test catalog: tiny networks on synthetic data).
 */
class TeacherFolderTest {

    private static final Catalog CATALOG = new TestCatalog();

    @TempDir static Path tmp;
    private static Path teacherRun;

    private static final String DATA =
            "data: {name: synthetic, batch_size: 16, test_batch_size: 64, synthetic: {train_size:"
                    + " 64, test_size: 32, classes: 4, channels: 2, size: 6}}\n";

    @BeforeAll
    static void trainTeacher() {
        teacherRun = tmp.resolve("teacher");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nseed: 3\n"
                                + DATA
                                + "model: {name: tiny_wide}\n"
                                + "optim: {lr: 0.1, epochs: 2, milestones: [1]}\n"
                                + "output: {dir: "
                                + teacherRun
                                + "}\n",
                        List.of(),
                        CATALOG);
        TrainingRun.execute(cfg, teacherRun, false, CATALOG);
    }

    private static RunConfig student(Path out, String checkpoint, String teacher) {
        return ConfigLoader.fromString(
                "kind: distill\nseed: 5\n"
                        + DATA
                        + "model: {name: tiny}\n"
                        + "teacher: {name: "
                        + teacher
                        + ", checkpoint: "
                        + checkpoint
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: 1, milestones: [1]}\n"
                        + "distill: {method: kd}\n"
                        + "output: {dir: "
                        + out
                        + "}\n",
                List.of(),
                CATALOG);
    }

    @Test
    void folderAndModelParamsGiveTheSameTeacherWeights() throws Exception {
        ModelInfo info = ModelFolder.readInfo(teacherRun.resolve("model"));
        assertEquals("tiny_wide", info.architecture());
        assertEquals(2, info.epoch());
        try (NDManager m = NDManager.newBaseManager()) {
            TinyNet fromParams = new TinyNet(4, 32);
            fromParams.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
            ModelFolder.readWeights(
                    fromParams, teacherRun.resolve(TrainingRun.MODEL_FILE), "tiny_wide", null, m);
            for (Path p : List.of(teacherRun, teacherRun.resolve("model"))) {
                TinyNet fromFolder = new TinyNet(4, 32);
                fromFolder.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
                ModelFolder.readWeights(fromFolder, p, "tiny_wide", () -> new TinyNet(4, 32), m);
                NDList a = ParameterFiles.toNDList(fromParams);
                NDList b = ParameterFiles.toNDList(fromFolder);
                assertEquals(a.size(), b.size());
                for (int i = 0; i < a.size(); i++) {
                    assertEquals(a.get(i).getName(), b.get(i).getName());
                    assertArrayEquals(
                            a.get(i).toFloatArray(), b.get(i).toFloatArray(), a.get(i).getName());
                }
            }
            // another architecture's folder is refused by name
            TinyNet other = new TinyNet(4, 16);
            other.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    ModelFolder.readWeights(
                                            other,
                                            teacherRun,
                                            "tiny",
                                            () -> new TinyNet(4, 16),
                                            m));
            assertTrue(e.getMessage().contains("holds a tiny_wide, not a tiny"), e.getMessage());
        }
    }

    @Test
    void distillRunsFromATeacherFolder() throws Exception {
        RunConfig viaFolder = student(tmp.resolve("s1"), teacherRun.toString(), "tiny_wide");
        ConfigValidator.checkFiles(viaFolder); // a folder is an accepted teacher.checkpoint
        RunResult a = TrainingRun.execute(viaFolder, tmp.resolve("s1"), false, CATALOG);
        RunResult b =
                TrainingRun.execute(
                        student(
                                tmp.resolve("s2"),
                                teacherRun.resolve(TrainingRun.MODEL_FILE).toString(),
                                "tiny_wide"),
                        tmp.resolve("s2"),
                        false,
                        CATALOG);
        // the same teacher weights give the same distillation, bit for bit
        assertEquals(b.history().get(0).trainLoss(), a.history().get(0).trainLoss(), 0.0);
        assertEquals(b.lastTop1(), a.lastTop1(), 0.0);
        String summary = Files.readString(tmp.resolve("s1").resolve("summary.md"));
        assertTrue(summary.contains("teacher top-1"), summary);
        ModelInfo s = ModelFolder.readInfo(tmp.resolve("s1").resolve("model"));
        assertEquals("distill", s.kind());
        assertEquals("tiny", s.architecture());

        ConfigException bad =
                assertThrows(
                        ConfigException.class,
                        () ->
                                TrainingRun.execute(
                                        student(tmp.resolve("s3"), teacherRun.toString(), "tiny"),
                                        tmp.resolve("s3"),
                                        false,
                                        CATALOG));
        assertTrue(bad.getMessage().contains("teacher.checkpoint"), bad.getMessage());
    }
}
