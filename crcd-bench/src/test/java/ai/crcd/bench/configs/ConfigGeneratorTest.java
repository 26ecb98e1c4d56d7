package ai.crcd.bench.configs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.bench.suite.PairSpec;
import ai.crcd.bench.suite.RunConfigs;
import ai.crcd.bench.suite.SuiteSpec;
import ai.crcd.core.Distillers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed configs are the generator's output (so the table in {@link ConfigGenerator} is the
 * one place to change them), and the generated text follows the references: RepDistiller's weights
 * and lr rule, mdistiller's DKD betas, alone/+KD folders, DKD's per-pair options in the suites.
 */
class ConfigGeneratorTest {

    private static final Path CONFIGS = Path.of("..", "configs");

    @Test
    void committedConfigsAreTheGeneratorsOutput() throws IOException {
        Map<String, String> gen = ConfigGenerator.generate(Distillers.registry().keySet());
        for (Map.Entry<String, String> e : gen.entrySet()) {
            Path f = CONFIGS.resolve(e.getKey());
            assertTrue(Files.isRegularFile(f), f + " missing: run scripts/bench.sh configs");
            assertEquals(
                    e.getValue(),
                    Files.readString(f, StandardCharsets.UTF_8),
                    f + " differs from the generator: run scripts/bench.sh configs");
        }
        // and nothing hand-written is left beside them (ImageNet's Table 6 configs aside)
        Set<String> committed;
        try (Stream<Path> s = Files.walk(CONFIGS)) {
            committed =
                    s.filter(p -> p.toString().endsWith(".yaml"))
                            .map(p -> CONFIGS.relativize(p).toString().replace('\\', '/'))
                            .filter(
                                    p ->
                                            p.startsWith("cifar100/")
                                                    || p.startsWith("fashion-mnist/"))
                            .collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> known = new TreeSet<>(ConfigGenerator.generate(null).keySet());
        committed.removeAll(known);
        assertEquals(Set.of(), committed, "configs the generator does not know");
    }

    @Test
    void everyRowGetsEveryPairWithTheReferenceRecipe() {
        Map<String, String> all = ConfigGenerator.generate(null);
        String fitnet = all.get("cifar100/fitnet/resnet56_resnet20.yaml");
        assertTrue(fitnet.contains("distill: {method: fitnet, options: {alpha: 0.0, beta: 100}}"));
        assertTrue(fitnet.contains("loss: {ce_weight: 1.0}"));
        assertTrue(fitnet.contains("optim: {lr: 0.05,"));
        String fitnetKd = all.get("cifar100/fitnet_kd/resnet32x4_ShuffleV2.yaml");
        assertTrue(fitnetKd.contains("{method: fitnet, options: {alpha: 1.0, beta: 100}}"));
        assertTrue(fitnetKd.contains("optim: {lr: 0.01,"), "RepDistiller: 0.01 for ShuffleNet");
        assertTrue(all.get("cifar100/vanilla/MobileNetV2.yaml").contains("optim: {lr: 0.01,"));
        assertTrue(all.get("cifar100/teachers/ResNet50.yaml").contains("optim: {lr: 0.05,"));
        assertTrue(
                all.get("cifar100/pkt/ResNet50_vgg8.yaml").contains("beta: 30000}"),
                "RepDistiller's -b 30000 for PKT");
        // mdistiller's configs/cifar100/dkd: res56_res20 2.0, vgg13_vgg8 6.0, res32x4_res8x4 8.0
        assertTrue(all.get("cifar100/dkd/resnet56_resnet20.yaml").contains("beta: 2.0,"));
        assertTrue(all.get("cifar100/dkd/vgg13_vgg8.yaml").contains("beta: 6.0,"));
        assertTrue(all.get("cifar100/dkd/resnet32x4_resnet8x4.yaml").contains("beta: 8.0,"));
        assertTrue(all.get("cifar100/dkd/vgg13_MobileNetV2.yaml").contains("beta: 6.0,"));
        for (ConfigGenerator.Row r : ConfigGenerator.METHODS) {
            if (r.folder() == null) {
                continue;
            }
            long n =
                    all.keySet().stream()
                            .filter(k -> k.startsWith("cifar100/" + r.folder() + "/"))
                            .count();
            assertEquals(13, n, r.folder() + ": 7 Table 5 + 6 cross-architecture pairs");
            assertTrue(
                    all.containsKey("fashion-mnist/" + r.folder() + "/resnet20_resnet8.yaml"),
                    r.folder());
        }
        // the registry filter leaves out what is not registered
        Map<String, String> some = ConfigGenerator.generate(Set.of("kd"));
        assertTrue(some.keySet().stream().noneMatch(k -> k.startsWith("cifar100/crcd/")));
        assertTrue(some.containsKey("cifar100/kd/vgg13_vgg8.yaml"));
    }

    @Test
    void suitesListEveryRowAndGiveDkdItsPairBeta() throws IOException {
        Map<String, String> all = ConfigGenerator.generate(null);
        SuiteSpec table5 =
                SuiteSpec.parse(all.get("bench/cifar100-table5.yaml"), "cifar100-table5.yaml");
        assertEquals(7, table5.pairList().size());
        List<String> labels = table5.methods().stream().map(MethodSpec::label).toList();
        for (ConfigGenerator.Row r : ConfigGenerator.METHODS) {
            assertTrue(labels.contains(r.label()), r.label());
        }
        assertTrue(labels.containsAll(List.of("vanilla", "FitNet", "FitNet+KD", "DKD", "CRCD")));
        MethodSpec dkd =
                table5.methods().stream().filter(m -> m.method().equals("dkd")).findFirst().get();
        PairSpec r56 =
                table5.pairList().stream()
                        .filter(p -> p.name().equals("resnet56_resnet20"))
                        .findFirst()
                        .get();
        String yaml =
                RunConfigs.studentYaml(
                        table5.baseTree(CONFIGS.resolve("bench")), r56, dkd, "t.params", 1);
        assertTrue(yaml.contains("beta: 2.0"), yaml);
        SuiteSpec cross =
                SuiteSpec.parse(all.get("bench/cifar100-cross-arch.yaml"), "cross-arch.yaml");
        assertEquals(6, cross.pairList().size());
        PairSpec mv2 = cross.pairList().get(0);
        assertEquals(List.of("optim.lr=0.01"), mv2.overrides());
        assertEquals(List.of("optim.lr=0.05"), mv2.teacher().overrides());
        String typo =
                all.get("bench/cifar100-table5.yaml")
                        .replace("resnet56_resnet20: {alpha", "resnet56_resnet2: {alpha");
        IllegalArgumentException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        IllegalArgumentException.class, () -> SuiteSpec.parse(typo, "t5.yaml"));
        assertTrue(
                e.getMessage().contains("pair_options names pair 'resnet56_resnet2'"),
                e.getMessage());
        SuiteSpec zoo =
                SuiteSpec.parse(all.get("bench/fashion-mnist-zoo.yaml"), "fashion-mnist-zoo.yaml");
        // the paper's form of each method (475d806): a method's "+KD" row when it has one, not
        // the method alone; no CRD alone (CRD+KD is there); plus the vanilla student
        Set<String> folders = new java.util.HashSet<>();
        ConfigGenerator.METHODS.forEach(r -> folders.add(r.folder()));
        long paperForm =
                ConfigGenerator.METHODS.stream()
                        .filter(r -> r.folder() == null || !folders.contains(r.folder() + "_kd"))
                        .filter(r -> !"crd".equals(r.method()))
                        .count();
        assertTrue(paperForm < ConfigGenerator.METHODS.size(), "some rows have a +KD sibling");
        assertEquals(paperForm + 1, zoo.methods().size());
        assertEquals(List.of(1L, 2L, 3L), zoo.seeds());
    }
}
