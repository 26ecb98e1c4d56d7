package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.Scalars;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * RC's negative term computed in one pass with its closed-form gradient ({@link
 * RelationContrastiveLoss#rcNegativeTerm}) against the autograd chain it replaces ({@link
 * RelationContrastiveLoss#rcNegativeTermReference}): same value and same gradient w.r.t. every
 * score at 1e-5 relative, in float32 and float64, with scores spread over [-1, 1], near 1 (small
 * {@code 1 - h}), exactly 1 and above 1 (the clamps), and an upstream weight that is not 1.
 */
class RcNegativeTermTest {

    @Test
    void fusedTermEqualsTheAutogradChainInValueAndGradient() {
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            for (double tau : new double[] {0.05, 0.5}) {
                check(type, tau, 0.7, 11);
                check(type, tau, 1.0, 12);
            }
        }
    }

    private static void check(DataType type, double tau, double weight, long seed) {
        int b = 6;
        int m = 5;
        int n = 40;
        Random r = new Random(seed);
        double[] scores = new double[b * m * n];
        for (int i = 0; i < scores.length; i++) {
            switch (i % 10) {
                case 0:
                    scores[i] = 1.0; // clamped: 1 - h = 0 -> eps
                    break;
                case 1:
                    scores[i] = 1.0 + 1e-6; // above 1: min(s, 1)
                    break;
                case 2:
                    scores[i] = 1.0 - 1e-3 * r.nextDouble(); // 1 - h small
                    break;
                default:
                    scores[i] = 2 * r.nextDouble() - 1;
            }
        }
        Engine.getInstance().setRandomSeed((int) seed);
        try (NDManager manager = NDManager.newBaseManager()) {
            double[][] ref = run(manager, scores, new Shape(b, m, n), type, tau, weight, false);
            double[][] fused = run(manager, scores, new Shape(b, m, n), type, tau, weight, true);
            String what = type + " tau=" + tau + " w=" + weight;
            assertClose(ref[0][0], fused[0][0], what + " value");
            double scale = 0;
            for (double g : ref[1]) {
                scale = Math.max(scale, Math.abs(g));
            }
            assertTrue(scale > 0, what + ": the reference gradient is all zero");
            int nonZero = 0;
            for (int i = 0; i < ref[1].length; i++) {
                assertEquals(
                        ref[1][i],
                        fused[1][i],
                        1e-5 * Math.max(Math.abs(ref[1][i]), 1e-3 * scale),
                        what + " gradient " + i + " (score " + scores[i] + ")");
                nonZero += ref[1][i] != 0 ? 1 : 0;
            }
            assertTrue(nonZero > scores.length / 20, what + ": too few non-zero gradients");
        }
    }

    /** Returns [[value], gradient of 1.7 * term w.r.t. the scores], as doubles. */
    private static double[][] run(
            NDManager manager,
            double[] scores,
            Shape shape,
            DataType type,
            double tau,
            double weight,
            boolean fused) {
        try (NDManager m = manager.newSubManager()) {
            NDArray s = m.create(scores, shape).toType(type, false);
            s.setRequiresGradient(true);
            double value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray term =
                        fused
                                ? RelationContrastiveLoss.rcNegativeTerm(s, tau, weight)
                                : RelationContrastiveLoss.rcNegativeTermReference(s, tau, weight);
                value = term.toType(DataType.FLOAT64, false).getDouble();
                gc.backward(Scalars.mul(term, 1.7));
            }
            double[] g = s.getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
            return new double[][] {{value}, g};
        }
    }

    private static void assertClose(double want, double got, String what) {
        assertEquals(want, got, 1e-5 * Math.max(1e-6, Math.abs(want)), what);
    }
}
