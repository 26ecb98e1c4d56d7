package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.io.Csv;
import ai.crcd.bench.suite.MethodSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The step benchmark's logic on tiny sizes: one row per method, memory accounting, outputs. No
 * timing checks.
 */
class StepBenchTest {

    @TempDir Path tmp;

    @Test
    void tinyBenchHasOneRowPerMethodAndCountsMemory() throws Exception {
        int datasetSize = 40;
        List<MethodSpec> methods =
                List.of(
                        new MethodSpec("vanilla", "vanilla", 1.0, Map.of(), List.of()),
                        new MethodSpec(
                                "KD", "kd", 0.1, Map.of("alpha", 0.9, "temperature", 4), List.of()),
                        new MethodSpec(
                                "CRD+KD",
                                "crd_kd",
                                1.0,
                                Map.of("alpha", 1.0, "beta", 0.8, "nce_k", 16),
                                List.of()),
                        new MethodSpec("CRCD", "crcd", 1.0, Map.of("negatives", 8), List.of()),
                        new MethodSpec("FRCD", "frcd", 1.0, Map.of("negatives", 8), List.of()),
                        new MethodSpec("GRCD", "grcd", 1.0, Map.of("negatives", 8), List.of()));
        StepBench.Result r =
                StepBench.builder()
                        .optPair("resnet8", "resnet8")
                        .optBatch(4)
                        .optInput(5, 3, 8)
                        .optDatasetSize(datasetSize)
                        .optMethods(methods)
                        .optRounds(1, 2)
                        .optLoaderBatches(2)
                        .optLog(s -> {})
                        .build()
                        .run();

        assertEquals(
                List.of("vanilla", "KD", "CRD+KD", "CRCD", "FRCD", "GRCD"),
                r.methods().stream().map(StepBench.MethodResult::label).toList());
        for (StepBench.MethodResult m : r.methods()) {
            assertEquals(2, m.steps(), m.label());
            assertTrue(
                    m.medianMs() > 0 && m.p25Ms() <= m.medianMs() && m.medianMs() <= m.p75Ms(),
                    m.label());
            assertTrue(Double.isFinite(m.firstLoss()) && Double.isFinite(m.lastLoss()), m.label());
        }
        // no state and no parameters for vanilla and KD
        assertEquals(0, r.get("vanilla").stateBytes() + r.get("vanilla").auxParamBytes());
        assertEquals(0, r.get("KD").stateBytes() + r.get("KD").auxParamBytes());
        // CRD: two banks n_data x 128 floats; two embeddings Linear(64, 128) with bias (resnet8: D
        // = 64)
        long bank = 2L * datasetSize * 128 * 4;
        assertTrue(
                r.get("CRD+KD").stateBytes() >= bank, "CRD state " + r.get("CRD+KD").stateBytes());
        assertEquals(2L * (64 * 128 + 128) * 4, r.get("CRD+KD").auxParamBytes());
        // CRCD keeps feature and gradient buffers; FRCD/GRCD one of them each
        assertTrue(r.get("CRCD").stateBytes() > r.get("FRCD").stateBytes());
        assertTrue(r.get("FRCD").stateBytes() > 0 && r.get("GRCD").stateBytes() > 0);
        assertTrue(r.get("CRCD").auxParamBytes() > 0);
        assertTrue(r.loaderImagesPerSecond() > 0);

        r.write(tmp, "step-cpu-b4");
        Csv csv = Csv.read(tmp.resolve("step-cpu-b4.csv"));
        assertEquals(6, csv.rows().size());
        Map<String, String> crd = csv.records().get(2);
        assertEquals("CRD+KD", crd.get("label"));
        double ratio = Double.parseDouble(crd.get("ratio_to_kd"));
        assertEquals(r.get("CRD+KD").medianMs() / r.get("KD").medianMs(), ratio, 1e-9);
        assertEquals(
                r.get("CRD+KD").stateBytes() + r.get("CRD+KD").auxParamBytes(),
                Long.parseLong(crd.get("aux_total_bytes")));
        String md = java.nio.file.Files.readString(tmp.resolve("step-cpu-b4.md"));
        assertTrue(md.contains("CRCD/KD step time:"), md);
        assertTrue(md.contains("2 × 40 × 128 floats"), md);
        assertTrue(md.contains("Data loader"), md);
    }

    @Test
    void everyRegisteredMethodIsTimedByDefault() {
        List<MethodSpec> every = SuiteMain.selectMethods(null);
        assertEquals(every, SuiteMain.selectMethods(List.of("all")));
        java.util.Set<String> timed =
                every.stream().map(MethodSpec::method).collect(java.util.stream.Collectors.toSet());
        assertTrue(timed.containsAll(ai.crcd.core.Distillers.registry().keySet()), "" + timed);
        assertEquals("KD", every.get(1).label()); // the recipes first, KD the ratios' base
        assertEquals("dkd", SuiteMain.selectMethods(List.of("dkd")).get(0).method());
    }

    @Test
    void unknownMethodLabelIsNamed() {
        IllegalArgumentException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> SuiteMain.selectMethods(List.of("KD", "XYZ")));
        assertTrue(
                e.getMessage().contains("'XYZ'") && e.getMessage().contains("CRD+KD"),
                e.getMessage());
    }
}
