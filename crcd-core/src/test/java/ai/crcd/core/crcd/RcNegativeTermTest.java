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
 * score at 1e-5 relative in float64; in float32 as close to the float64 values as the chain, or
 * closer; scores spread over [-1, 1], near 1 (small {@code 1 - h}), exactly 1 and above 1 (the
 * clamps), and an upstream weight that is not 1.
 */
class RcNegativeTermTest {

    @Test
    void fusedTermEqualsTheAutogradChainInValueAndGradient() {
        for (double tau : new double[] {0.05, 0.5}) {
            check(tau, 0.7, 11, -1, 1);
            check(tau, 1.0, 12, 0.5, 1); // where the loss has most of its gradient
        }
    }

    /**
     * Scores uniform in [lo, hi], and every tenth exactly 1, just above 1 (the clamps) or within
     * 1e-3 below 1 (small 1 - h). In float64 the fused term equals the reference chain at 1e-5
     * relative, value and every gradient. In float32 both are compared with the float64 reference:
     * value at 1e-5, gradient at 1e-5 in l1 over all scores, and the fused gradient is not less
     * exact than the float32 reference chain (which loses about 1e-3 to the cancellation in 1 -
     * tanh^2 for far negatives).
     */
    private static void check(double tau, double weight, long seed, double lo, double hi) {
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
                    scores[i] = lo + (hi - lo) * r.nextDouble();
            }
        }
        Engine.getInstance().setRandomSeed((int) seed);
        Shape shape = new Shape(b, m, n);
        String what = "tau=" + tau + " w=" + weight + " scores in [" + lo + ", " + hi + "]";
        try (NDManager manager = NDManager.newBaseManager()) {
            double[][] ref = run(manager, scores, shape, DataType.FLOAT64, tau, weight, false);
            double[][] fused = run(manager, scores, shape, DataType.FLOAT64, tau, weight, true);
            assertClose(ref[0][0], fused[0][0], what + " float64 value");
            int nonZero = 0;
            double largest = 0;
            for (double g : ref[1]) {
                largest = Math.max(largest, Math.abs(g));
            }
            for (int i = 0; i < ref[1].length; i++) {
                // (+ 1e-12 of the largest: where tanh rounds to 1 the chain gives 0, the fused
                // term the exact e^{-(1-s)/tau}-sized value)
                assertEquals(
                        ref[1][i],
                        fused[1][i],
                        1e-5 * Math.abs(ref[1][i]) + 1e-12 * largest,
                        what + " float64 gradient " + i + " (score " + scores[i] + ")");
                nonZero += ref[1][i] != 0 ? 1 : 0;
            }
            assertTrue(nonZero > scores.length / 2, what + ": too few non-zero gradients");

            // float32: against float64 on the same (float-rounded) scores
            double[] rounded = new double[scores.length];
            for (int i = 0; i < scores.length; i++) {
                rounded[i] = (float) scores[i];
            }
            ref = run(manager, rounded, shape, DataType.FLOAT64, tau, weight, false);
            double[][] ref32 = run(manager, rounded, shape, DataType.FLOAT32, tau, weight, false);
            double[][] fused32 = run(manager, rounded, shape, DataType.FLOAT32, tau, weight, true);
            assertClose(ref[0][0], fused32[0][0], what + " float32 value");
            double errFused = l1(fused32[1], ref[1]);
            double errRef = l1(ref32[1], ref[1]);
            double scale = l1(ref[1], new double[ref[1].length]);
            assertTrue(
                    errFused <= 1e-5 * scale,
                    what + " float32 gradient: l1 error " + errFused + " of " + scale);
            assertTrue(
                    errFused <= errRef * 1.5 + 1e-7 * scale,
                    what + " float32: fused " + errFused + " less exact than the chain " + errRef);
        }
    }

    private static double l1(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs(a[i] - b[i]);
        }
        return sum;
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
