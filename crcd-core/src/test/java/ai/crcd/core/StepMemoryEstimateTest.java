package ai.crcd.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Distiller#estimateStepBytes}: the methods with sizes that grow with their options
 * (crcd/frcd/grcd, crd/crd_kd) estimate their dominant tensors; the others add nothing.
 */
class StepMemoryEstimateTest {

    private static final DistillSetup SETUP =
            DistillSetup.builder()
                    .setFeatureDims(256, 64)
                    .setNumClasses(100)
                    .optDatasetLabels(new int[50_000])
                    .build();

    private static long estimate(String method, Map<String, Object> options, int batch) {
        try (Distiller d =
                Distillers.create(method, new DistillerOptions("distill.options", options))) {
            return d.estimateStepBytes(SETUP, batch);
        }
    }

    @Test
    void methodsWithoutLargeTensorsEstimateNothing() {
        assertEquals(0, estimate("kd", Map.of(), 64));
        assertEquals(0, estimate("vanilla", Map.of(), 64));
    }

    @Test
    void crcdIsDominatedByScoresHiddenRelationsAndCriticOutputs() {
        // the autograd path (fast_path false), per element, in float32: B x B x N scores (10
        // copies), B x (2B + N) x R hidden relations (2 copies, folded critic), B x (2B + N) x C
        // critic outputs (4 copies); with N = 1e9 the rest (the buffer N x Ds) is below 10 %
        Map<String, Object> autograd = Map.of("negatives", 1_000_000_000, "fast_path", false);
        long huge = estimate("crcd", autograd, 64);
        double scores = 64.0 * 64 * 1e9 * 10;
        double hidden = 64.0 * (128 + 1e9) * 256 * 2;
        double critic = 64.0 * (128 + 1e9) * 128 * 4;
        double dominant = 2 * 4 * (scores + hidden + critic);
        assertTrue(huge >= dominant && huge < 1.1 * dominant, huge + " vs " + dominant);
        // one element (frcd) is half of crcd
        long f = estimate("frcd", autograd, 64);
        assertEquals(0.5, (double) f / huge, 1e-9);
        // the paper's setting fits a laptop: N = 500 (B 64, R 256, C 128) stays under 1 GB
        long paper = estimate("crcd", Map.of("fast_path", false), 64);
        assertTrue(paper > 50e6 && paper < 1e9, "paper setting " + paper);
        // the estimate grows with B and N
        assertTrue(estimate("crcd", Map.of("fast_path", false), 128) > paper);
        assertTrue(estimate("crcd", Map.of("negatives", 1000, "fast_path", false), 64) > paper);
    }

    @Test
    void fusedNegativesKeepNothingOfTheNegativesSide() {
        // default fast path: per element N x (Ds + 2 + 2R) values grow with N (the buffer, its
        // counters, the projected negatives and their gradient), the (B, N) side is not kept
        long huge = estimate("crcd", Map.of("negatives", 1_000_000_000), 64);
        double linear = 2 * 4 * 1e9 * (64 + 2 + 2 * 256);
        assertTrue(huge >= linear && huge < 1.01 * linear, huge + " vs " + linear);
        // the paper's setting: below the autograd path's estimate, above the kept B x B sides
        long paper = estimate("crcd", Map.of(), 64);
        long autograd = estimate("crcd", Map.of("fast_path", false), 64);
        double bSides = 2 * 4 * (2 * 64.0 * 64 * 256 * 2 + 2 * 64.0 * 64 * 128 * 4);
        assertTrue(paper > bSides && paper < autograd / 3, paper + " vs " + autograd);
        // only RC with a folded linear critic is fused
        assertEquals(autograd, estimate("crcd", Map.of("loss", "nce", "fast_path", false), 64));
        assertEquals(
                estimate("crcd", Map.of("loss", "nce"), 64),
                estimate("crcd", Map.of("loss", "nce", "fast_path", false), 64));
    }

    @Test
    void crdIsDominatedByTheContrastRows() {
        // per side B x (K + 1) x F floats, x2: 2 * 64 * (1e9 + 1) * 128 * 4 * 2 = 131 TB
        long huge = estimate("crd_kd", Map.of("nce_k", 1_000_000_000), 64);
        double rows = 2 * 64.0 * (1e9 + 1) * 128 * 4 * 2;
        assertTrue(huge >= rows && huge < 1.2 * rows, huge + " vs " + rows);
        // RepDistiller's default K = 16384: the banks (2 x 50,000 x 128 floats = 51 MB) and
        // the contrast rows (2 sides x 64 x 16385 x 128 floats x 2 = 2.15 GB)
        long def = estimate("crd", Map.of(), 64);
        assertTrue(def > 2.2e9 && def < 2.5e9, "default " + def);
        // the queue's memory does not grow with the data set
        long queue = estimate("crd", Map.of("memory", "queue"), 64);
        assertTrue(queue < def, queue + " vs " + def);
    }
}
