package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.ConfigValidator;
import ai.crcd.train.config.RunConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Binding, overrides and every validation error of a run config. */
class ConfigLoaderTest {

    private static final Catalog CATALOG = new TestCatalog();

    private static final String BASE =
            "kind: distill\n"
                    + "data: {name: synthetic}\n"
                    + "model: {name: tiny}\n"
                    + "teacher: {name: tiny_wide, checkpoint: t.params}\n"
                    + "distill: {method: testbuf, options: {kd_weight: 0.9}}\n";

    @Test
    void defaultsAreTheCifarRecipe() {
        RunConfig c = ConfigLoader.fromString(BASE, List.of(), CATALOG);
        assertEquals(0.05, c.resolvedLr());
        assertNull(c.optim.lr);
        assertEquals(0.9, c.optim.momentum);
        assertEquals(5e-4, c.optim.weightDecay);
        assertEquals(240, c.optim.epochs);
        assertEquals(List.of(150, 180, 210), c.optim.milestones);
        assertEquals(0.1, c.optim.gamma);
        assertEquals(64, c.data.batchSize);
        assertEquals("cpu", c.device);
        assertEquals(0.01, RunConfig.recipeLr("mobilenetv2"));
        assertEquals(0.01, RunConfig.recipeLr("ShuffleV1"));
        assertEquals(0.05, RunConfig.recipeLr("resnet32x4"));
    }

    @Test
    void overridesAreTypedYamlValues() {
        RunConfig c =
                ConfigLoader.fromString(
                        BASE,
                        List.of(
                                "optim.lr=0.01",
                                "optim.weight_decay=5e-4",
                                "optim.milestones=[3, 5]",
                                "data.augment=false",
                                "distill.options.hint_weight=2",
                                "output.dir=runs/x"),
                        CATALOG);
        assertEquals(0.01, c.resolvedLr());
        assertEquals(5e-4, c.optim.weightDecay);
        assertEquals(List.of(3, 5), c.optim.milestones);
        assertEquals(false, c.data.augment);
        assertEquals(2, ((Number) c.distill.options.get("hint_weight")).intValue());
        assertEquals("runs/x", c.output.dir);
        // a config written back and read again is the same config
        RunConfig again = ConfigLoader.fromString(ConfigLoader.toYaml(c), List.of(), CATALOG);
        assertEquals(ConfigLoader.toYaml(c), ConfigLoader.toYaml(again));
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                // override, expected start of the message (after the source name)
                Arguments.of(
                        "optim.lrr=0.1",
                        "optim.lrr: unknown key, allowed keys here: [epochs, gamma, lr,"),
                Arguments.of(
                        "colour=red",
                        "colour: unknown key, allowed keys here: [data, device, devices,"),
                Arguments.of("optim.lr=abc", "optim.lr: got 'abc', allowed: a number"),
                Arguments.of(
                        "data.batch_size=12.5", "data.batch_size: got '12.5', allowed: an integer"),
                Arguments.of("data.augment=[1]", "data.augment: got '[1]', allowed: true or false"),
                Arguments.of(
                        "model.name=resnet999",
                        "model.name: got 'resnet999', allowed: one of [tiny, tiny_wide]"),
                Arguments.of(
                        "teacher.name=nope",
                        "teacher.name: got 'nope', allowed: one of [tiny, tiny_wide]"),
                Arguments.of(
                        "distill.method=magic", "distill.method: got 'magic', allowed: one of ["),
                Arguments.of(
                        "data.name=imagenet",
                        "data.name: got 'imagenet', allowed: one of [synthetic]"),
                Arguments.of("optim.lr=0", "optim.lr: got '0.0', allowed: a number > 0"),
                Arguments.of("optim.lr=-0.1", "optim.lr: got '-0.1', allowed: a number > 0"),
                Arguments.of(
                        "data.batch_size=0", "data.batch_size: got '0', allowed: an integer >= 1"),
                Arguments.of(
                        "data.test_batch_size=-3",
                        "data.test_batch_size: got '-3', allowed: an integer >= 1"),
                Arguments.of(
                        "loss.ce_weight=-1", "loss.ce_weight: got '-1.0', allowed: a number >= 0"),
                Arguments.of(
                        "distill.options.kd_weight=-0.5",
                        "distill.options.kd_weight: got '-0.5', allowed: a number >= 0"),
                Arguments.of(
                        "distill.options.temperature=4",
                        "distill.options: unknown key(s) [temperature]"),
                Arguments.of(
                        "optim.milestones=[150, 120]",
                        "optim.milestones: got '[150, 120]', allowed: strictly increasing"),
                Arguments.of(
                        "optim.milestones=[0]",
                        "optim.milestones: got '[0]', allowed: strictly increasing"),
                Arguments.of(
                        "optim.momentum=1.5",
                        "optim.momentum: got '1.5', allowed: a number in [0, 1)"),
                Arguments.of(
                        "optim.weight_decay=-1e-4",
                        "optim.weight_decay: got '-1.0E-4', allowed: a number >= 0"),
                Arguments.of("optim.epochs=0", "optim.epochs: got '0', allowed: an integer >= 1"),
                Arguments.of(
                        "optim.gamma=2", "optim.gamma: got '2.0', allowed: a number in (0, 1]"),
                Arguments.of(
                        "kind=finetune", "kind: got 'finetune', allowed: one of [train, distill]"),
                Arguments.of(
                        "device=tpu",
                        "device: got 'tpu', allowed: one of [cpu, gpu, gpuN (e.g. gpu1), gpu-local, auto]"),
                Arguments.of(
                        "devices=2",
                        "devices: got '2', allowed: 1 (multi-GPU data parallel is not implemented"),
                Arguments.of(
                        "nan_policy=ignore",
                        "nan_policy: got 'ignore', allowed: one of [stop, skip]"),
                Arguments.of(
                        "guard.nan_skip_limit=1",
                        "guard.nan_skip_limit: got '1.0', allowed: a fraction of an epoch's steps in [0, 1)"),
                Arguments.of(
                        "guard.nan_skip_limit=-0.1",
                        "guard.nan_skip_limit: got '-0.1', allowed: a fraction"),
                Arguments.of(
                        "guard.divergence_factor=1",
                        "guard.divergence_factor: got '1.0', allowed: a number > 1 (e.g. 100), or 0"),
                Arguments.of(
                        "guard.reference_steps=0",
                        "guard.reference_steps: got '0', allowed: an integer >= 1"),
                Arguments.of(
                        "guard.max_loss=-1",
                        "guard.max_loss: got '-1.0', allowed: a number > 0 (e.g. 1e6), or 0"),
                Arguments.of("guard.max_los=5", "guard"),
                Arguments.of(
                        "teacher.checkpoint=",
                        "teacher.checkpoint: got 'null', allowed: the model.params file"),
                Arguments.of("teacher.num_classes=10", null), // only with model.num_classes set
                Arguments.of(
                        "output.log_interval=0",
                        "output.log_interval: got '0', allowed: an integer >= 1"),
                Arguments.of(
                        "data.subset_per_class=-1",
                        "data.subset_per_class: got '-1', allowed: an integer >= 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void badValueGivesOneLineNamingKeyAndValue(String override, String expected) {
        if (expected == null) {
            ConfigLoader.fromString(BASE, List.of(override), CATALOG); // valid alone
            return;
        }
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString(BASE, List.of(override), CATALOG));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("<config>: "), msg);
        assertTrue(msg.substring("<config>: ".length()).startsWith(expected), msg);
        assertEquals(-1, msg.indexOf('\n'), "one line: " + msg);
    }

    @Test
    void classCountsMustAgree() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.fromString(
                                        BASE,
                                        List.of("teacher.num_classes=10", "model.num_classes=100"),
                                        CATALOG));
        assertTrue(
                e.getMessage()
                        .endsWith(
                                "teacher.num_classes: got '10', allowed: the student's class count"
                                        + " model.num_classes = 100"),
                e.getMessage());
    }

    @Test
    void trainKindRejectsTeacherAndMethods() {
        String train = "kind: train\ndata: {name: synthetic}\nmodel: {name: tiny}\n";
        ConfigLoader.fromString(train, List.of(), CATALOG);
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.fromString(
                                        train, List.of("distill.method=testbuf"), CATALOG));
        assertTrue(
                e.getMessage().contains("distill.method: got 'testbuf', allowed: vanilla"),
                e.getMessage());
        ConfigException t =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString(BASE, List.of("kind=train"), CATALOG));
        assertTrue(
                t.getMessage().contains("teacher: got 'a section', allowed: no teacher"),
                t.getMessage());
    }

    @Test
    void badOverrideSyntaxAndBadYaml() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString(BASE, List.of("optim.lr"), CATALOG));
        assertTrue(
                e.getMessage().startsWith("--set: got 'optim.lr', allowed: key.path=value"),
                e.getMessage());
        ConfigException v =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString(BASE, List.of("kind.x=1"), CATALOG));
        assertTrue(
                v.getMessage().startsWith("--set kind.x: 'kind' is a value, not a section"),
                v.getMessage());
        ConfigException y =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString("kind: [train\n", List.of(), CATALOG));
        // one line: file:line:col: not valid YAML (what is wrong)
        assertTrue(
                y.getMessage()
                        .startsWith(
                                "<config>:2:1: not valid YAML (while parsing a flow"
                                        + " sequence: expected ',' or ']'"),
                y.getMessage());
        assertEquals(1, y.getMessage().lines().count(), y.getMessage());
    }

    @Test
    void missingFilesAreReportedByCheckFiles(@TempDir Path dir) throws Exception {
        RunConfig c = ConfigLoader.fromString(BASE, List.of(), CATALOG);
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigValidator.checkFiles(c));
        assertTrue(
                e.getMessage()
                        .startsWith("teacher.checkpoint: got 't.params', allowed: an existing"),
                e.getMessage());
        Path t = Files.writeString(dir.resolve("t.params"), "x");
        c.teacher.checkpoint = t.toString();
        ConfigValidator.checkFiles(c);
        c.data.root = dir.resolve("no-such-folder").toString();
        ConfigException d =
                assertThrows(ConfigException.class, () -> ConfigValidator.checkFiles(c));
        assertTrue(d.getMessage().startsWith("data.root: got '"), d.getMessage());
        ConfigException f =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.load(dir.resolve("none.yaml"), List.of(), CATALOG));
        assertTrue(f.getMessage().endsWith("none.yaml: no such config file"), f.getMessage());
    }
}
