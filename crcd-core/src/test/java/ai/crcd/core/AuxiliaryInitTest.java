package ai.crcd.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every trainable auxiliary parameter (CRCD relation networks and critics, CRD embeddings) starts
 * as PyTorch's {@code nn.Linear}: uniform in +-1/sqrt(fan_in), weights and biases alike. The fan-in
 * of each parameter is written down here from the architecture (not read from the code), and the
 * dims are chosen so that the wrong axis of a stored weight gives another bound.
 */
class AuxiliaryInitTest {

    private static final int DT = 100; // teacher feature dim
    private static final int DS = 36; // student feature dim
    private static final int R = 64; // relation dim
    private static final int C = 96; // critic dim
    private static final int F = 80; // CRD embedding dim

    private static DistillSetup setup() {
        int[] labels = new int[200];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 10;
        }
        return DistillSetup.builder()
                .setFeatureDims(DT, DS)
                .setNumClasses(10)
                .optDatasetLabels(labels)
                .optSeed(4)
                .build();
    }

    /** The fan-in of a CRCD parameter from its path, e.g. {@code feature_cross_relation_...}. */
    private static int crcdFanIn(String key) {
        boolean cross = key.contains("cross_");
        if (key.contains("_relation_")) {
            if (key.endsWith("anchor_weight") || key.endsWith("anchor_bias")) {
                return DT; // the anchor is always the teacher's representation
            }
            if (key.endsWith("sample_weight")) {
                return cross ? DS : DT; // M^{T,S} samples the student, M^T the teacher
            }
            if (key.endsWith("output_weight") || key.endsWith("output_bias")) {
                return R;
            }
        }
        if (key.contains("_critic_")) {
            return R; // linear: R -> C; MLP: R -> R -> C
        }
        throw new AssertionError("unexpected CRCD parameter " + key);
    }

    private static int crdFanIn(String key) {
        if (key.contains("embed_s_")) {
            return DS;
        }
        if (key.contains("embed_t_")) {
            return DT;
        }
        throw new AssertionError("unexpected CRD parameter " + key);
    }

    /** Checks U(-b, b), b = 1/sqrt(fanIn): no value outside, std b/sqrt(3), mean 0, max near b. */
    private static void assertUniform(String key, NDArray a, int fanIn) {
        double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
        int n = v.length;
        double bound = 1 / Math.sqrt(fanIn);
        double max = Arrays.stream(v).map(Math::abs).max().orElse(0);
        double mean = Arrays.stream(v).average().orElse(0);
        double var = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / n;
        double std = Math.sqrt(var);
        double wantStd = bound / Math.sqrt(3);
        // relative standard error of a sample std of a uniform: sqrt((9/5 - 1) / (4 n))
        double relErr = Math.sqrt(0.2 / n);
        String what = key + " " + a.getShape() + " fan-in " + fanIn + ": ";
        assertTrue(max <= bound * (1 + 1e-6), what + "max |w| " + max + " > bound " + bound);
        assertEquals(wantStd, std, 4 * relErr * wantStd, what + "std");
        assertEquals(0, mean, 4 * wantStd / Math.sqrt(n), what + "mean");
        if (n >= 500) { // P(max < 0.95 b) = 0.95^n
            assertTrue(max > 0.95 * bound, what + "max |w| " + max + " far below " + bound);
        }
    }

    @Test
    void crcdRelationNetworksAndCriticsAreInitialisedAsTorchLinear() {
        for (String critic : List.of("linear", "mlp", "identity")) {
            try (NDManager m = NDManager.newBaseManager()) {
                Engine.getInstance().setRandomSeed(17);
                Distiller d =
                        Distillers.create(
                                "crcd",
                                new DistillerOptions(
                                        "distill.options",
                                        Map.of(
                                                "relation_dim", R,
                                                "critic", critic,
                                                "critic_dim", C,
                                                "negatives", 8)));
                d.initialize(m, setup());
                int checked = 0;
                for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
                    assertTrue(p.getValue().requiresGradient(), p.getKey());
                    assertUniform(p.getKey(), p.getValue().getArray(), crcdFanIn(p.getKey()));
                    checked++;
                }
                // 2 elements x (2 relations x 5 + 2 critics x {linear 2, mlp 4, identity 0})
                int perCritic = Map.of("linear", 2, "mlp", 4, "identity", 0).get(critic);
                assertEquals(2 * (2 * 5 + 2 * perCritic), checked, critic);
                d.close();
            }
        }
    }

    @Test
    void crdEmbeddingsAreInitialisedAsTorchLinear() {
        for (String method : List.of("crd", "crd_kd")) {
            try (NDManager m = NDManager.newBaseManager()) {
                Distiller d =
                        Distillers.create(
                                method,
                                new DistillerOptions(
                                        "distill.options", Map.of("feat_dim", F, "nce_k", 16)));
                d.initialize(m, setup());
                int checked = 0;
                for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
                    if (!p.getValue().requiresGradient()) {
                        continue;
                    }
                    assertUniform(p.getKey(), p.getValue().getArray(), crdFanIn(p.getKey()));
                    checked++;
                }
                assertEquals(4, checked, method); // two Linear maps: weight and bias each
                d.close();
            }
        }
    }

    @Test
    void crcdInitialisationIsFixedByTheEngineSeed() {
        Map<Integer, Map<String, float[]>> runs = new HashMap<>();
        int[] seeds = {5, 5, 6};
        for (int i = 0; i < seeds.length; i++) {
            try (NDManager m = NDManager.newBaseManager()) {
                Engine.getInstance().setRandomSeed(seeds[i]);
                Distiller d =
                        Distillers.create(
                                "crcd",
                                new DistillerOptions(
                                        "distill.options",
                                        Map.of(
                                                "relation_dim",
                                                8,
                                                "critic_dim",
                                                4,
                                                "negatives",
                                                2)));
                d.initialize(m, setup());
                Map<String, float[]> values = new HashMap<>();
                for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
                    values.put(p.getKey(), p.getValue().getArray().toFloatArray());
                }
                runs.put(i, values);
                d.close();
            }
        }
        for (String k : runs.get(0).keySet()) {
            assertTrue(Arrays.equals(runs.get(0).get(k), runs.get(1).get(k)), "same seed: " + k);
            assertFalse(Arrays.equals(runs.get(0).get(k), runs.get(2).get(k)), "other seed: " + k);
        }
    }
}
