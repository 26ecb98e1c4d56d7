package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A method that rejects the run's networks when it is set up (here fitnet's {@code hint_layer}
 * beyond the networks' stages) stops the run with one config line naming the option, not an
 * internal error.
 */
class MethodSetupErrorTest {

    private static final Catalog CATALOG = new TestCatalog();

    @TempDir Path tmp;

    @Test
    void hintLayerBeyondTheStagesIsOneConfigLine() throws Exception {
        Path teacher = tmp.resolve("teacher/model.params");
        try (NDManager m = NDManager.newBaseManager()) {
            TinyNet t = new TinyNet(4, 32);
            t.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
            ParameterFiles.save(t, teacher);
        }
        Path out = tmp.resolve("run");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: distill\nseed: 5\n"
                                + "data: {name: synthetic, batch_size: 16, test_batch_size: 64,"
                                + " synthetic: {train_size: 32, test_size: 16, classes: 4,"
                                + " channels: 2, size: 6}}\n"
                                + "model: {name: tiny}\n"
                                + "teacher: {name: tiny_wide, checkpoint: "
                                + teacher
                                + "}\n"
                                + "optim: {lr: 0.05, epochs: 1, milestones: []}\n"
                                + "distill: {method: fitnet, options: {hint_layer: 2}}\n"
                                + "output: {dir: "
                                + out
                                + ", progress_seconds: 100}\n",
                        List.of(),
                        CATALOG);
        ConfigException e =
                assertThrows(
                        ConfigException.class, () -> TrainingRun.execute(cfg, out, false, CATALOG));
        // TinyNet: [stem, stage1, pooled], so feats[2] is the pooled vector
        assertTrue(
                e.getMessage().startsWith("distill.options.hint_layer: got '2', allowed: 0..1"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
