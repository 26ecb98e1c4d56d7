package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Suite files: the shipped ones parse, bad ones get one clear message. */
class SuiteSpecTest {

    private static String msg(String yaml) {
        return assertThrows(IllegalArgumentException.class, () -> SuiteSpec.parse(yaml, "s.yaml"))
                .getMessage();
    }

    @Test
    void badSuitesNameTheProblem() {
        String ok =
                "name: a\nbase: x.yaml\nteacher: {model: resnet20}\nstudent: resnet8\nseeds: [1]\n"
                        + "methods: [{label: v, method: vanilla}]\n";
        SuiteSpec.parse(ok, "s.yaml");
        assertTrue(msg(ok + "epochs: 3\n").contains("unknown key 'epochs'"));
        assertTrue(msg(ok.replace("seeds: [1]", "seeds: []")).contains("seeds is empty"));
        assertTrue(
                msg(ok.replace(
                                "[{label: v, method: vanilla}]",
                                "[{label: v, method: vanilla}, {label: v, method: kd}]"))
                        .contains("'v' appears twice"));
        assertTrue(msg(ok.replace("student: resnet8\n", "")).contains("needs both"));
        assertTrue(msg(ok.replace("label: v,", "label: 'a b',")).contains("may only hold"));
        assertTrue(msg(ok.replace("seeds: [1]", "seeds: [x]")).contains("s.yaml"));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> SuiteSpec.parse(ok, "s.yaml").baseTree(Path.of("/nonexistent")));
        assertTrue(e.getMessage().contains("base config 'x.yaml' not found"), e.getMessage());
    }

    @Test
    void shippedSuitesParseAndResolveTheirBase() throws Exception {
        Path dir = Path.of("..", "configs", "bench");
        try (Stream<Path> files = Files.walk(dir)) {
            long n =
                    files.filter(
                                    f ->
                                            f.toString().endsWith(".yaml")
                                                    && !f.getFileName()
                                                            .toString()
                                                            .startsWith("base"))
                            .peek(
                                    f -> {
                                        try {
                                            SuiteSpec s = SuiteSpec.load(f);
                                            s.baseTree(f.getParent());
                                        } catch (Exception ex) {
                                            throw new AssertionError(
                                                    f + ": " + ex.getMessage(), ex);
                                        }
                                    })
                            .count();
            assertEquals(
                    6,
                    n,
                    "configs/bench should hold fashion-mnist-quick.yaml, cifar100-table5.yaml,"
                            + " tiny-cluster.yaml, imagenet-table6.yaml, cifar100-cross-arch.yaml"
                            + " and fashion-mnist-zoo.yaml");
        }
    }

    /** Every student run of the ImageNet suite binds and validates as a crcd-train config. */
    @Test
    void imagenetSuiteRunsValidate() throws Exception {
        Path file = Path.of("..", "configs", "bench", "imagenet-table6.yaml");
        SuiteSpec s = SuiteSpec.load(file);
        var base = s.baseTree(file.getParent());
        PairSpec pair = s.pairList().get(0);
        assertEquals("resnet34", pair.teacher().model());
        assertEquals("resnet18", pair.student());
        for (MethodSpec m : s.methods()) {
            var cfg =
                    ai.crcd.train.config.ConfigLoader.fromString(
                            RunConfigs.studentYaml(base, pair, m, pair.teacher().checkpoint(), 1),
                            RunConfigs.overrides(s, pair, m.overrides()));
            assertEquals("imagenet-folder", cfg.data.name);
            assertEquals(256, cfg.data.batchSize);
            assertEquals(java.util.List.of(30, 60, 90), cfg.optim.milestones);
            assertEquals(100, cfg.optim.epochs);
        }
    }
}
