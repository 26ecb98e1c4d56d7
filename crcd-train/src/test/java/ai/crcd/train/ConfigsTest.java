package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every YAML under {@code configs/} binds and validates against the real models, data sets and
 * methods (files are not required: teachers are trained by other configs), and follows the layout
 * {@code <dataset>/teachers/<model>.yaml}, {@code <dataset>/vanilla/<model>.yaml}, {@code
 * <dataset>/<method>/<teacher>_<student>.yaml}. Benchmark suites ({@code configs/bench/}, another
 * format) are validated by crcd-bench's {@code SuiteSpecTest}.
 */
class ConfigsTest {

    private static final Path CONFIGS = Path.of("..", "configs");

    static List<Path> configs() throws IOException {
        try (Stream<Path> s = Files.walk(CONFIGS)) {
            return s.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !CONFIGS.relativize(p).startsWith("bench"))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void validates(Path file) {
        RunConfig c = ConfigLoader.load(file, List.of());
        Path rel = CONFIGS.relativize(file);
        String dataset = rel.getName(0).toString();
        String group = rel.getName(1).toString();
        String stem = rel.getFileName().toString().replace(".yaml", "");
        // configs/imagenet/ holds the imagenet-folder (streamed JPEG) recipe of Table 6
        assertEquals(
                dataset.equals("imagenet") ? "imagenet-folder" : dataset,
                c.data.name,
                "data.name matches the folder");
        if (group.equals("teachers") || group.equals("vanilla")) {
            assertEquals("train", c.kind);
            assertEquals(stem, c.model.name);
        } else {
            assertEquals("distill", c.kind);
            assertEquals(stem, c.teacher.name + "_" + c.model.name);
            assertTrue(
                    c.teacher.checkpoint.equals(
                            "runs/" + dataset + "/teachers/" + c.teacher.name + "/model.params"),
                    c.teacher.checkpoint);
        }
        assertEquals("runs/" + dataset + "/" + group + "/" + stem, c.output.dir);
    }

    @org.junit.jupiter.api.Test
    void cifar100HasTheSevenTable5AndSixCrossArchitecturePairsForEveryMethod() throws IOException {
        // written by crcd-bench's ConfigGenerator: 7 Table 5 pairs + 6 cross-architecture pairs
        try (Stream<Path> dirs = Files.list(CONFIGS.resolve("cifar100"))) {
            for (Path m : dirs.collect(Collectors.toList())) {
                String name = m.getFileName().toString();
                if (name.equals("teachers") || name.equals("vanilla")) {
                    continue;
                }
                try (Stream<Path> s = Files.list(m)) {
                    assertEquals(13, s.count(), name);
                }
            }
        }
        RunConfig kd =
                ConfigLoader.load(CONFIGS.resolve("cifar100/kd/resnet56_resnet20.yaml"), List.of());
        assertEquals(0.1, kd.loss.ceWeight);
        assertEquals(0.9, ((Number) kd.distill.options.get("alpha")).doubleValue());
        RunConfig crd =
                ConfigLoader.load(
                        CONFIGS.resolve("cifar100/crd/resnet56_resnet20.yaml"), List.of());
        assertEquals("crd_kd", crd.distill.method);
        assertEquals(0.8, ((Number) crd.distill.options.get("beta")).doubleValue());
        assertEquals(240, crd.optim.epochs);
        assertEquals(List.of(150, 180, 210), crd.optim.milestones);
    }

    @org.junit.jupiter.api.Test
    void imagenetHasTable6sRecipe() throws IOException {
        for (String m : List.of("kd", "crd", "crd_kd", "crcd")) {
            RunConfig c =
                    ConfigLoader.load(
                            CONFIGS.resolve("imagenet/" + m + "/resnet34_resnet18.yaml"),
                            List.of());
            assertEquals("resnet34", c.teacher.name);
            assertEquals("resnet18", c.model.name);
            assertEquals(256, c.data.batchSize);
            assertEquals(100, c.optim.epochs);
            assertEquals(0.1, c.optim.lr);
            assertEquals(List.of(30, 60, 90), c.optim.milestones);
            assertEquals(0.1, c.optim.gamma);
            assertEquals(1e-4, c.optim.weightDecay);
            assertEquals(0.9, c.optim.momentum);
            assertEquals(m, c.distill.method);
        }
        RunConfig v =
                ConfigLoader.load(CONFIGS.resolve("imagenet/vanilla/resnet18.yaml"), List.of());
        assertEquals(100, v.optim.epochs);
        assertEquals(256, v.data.batchSize);
    }
}
