package ai.crcd.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.crcd.FeatureElement;
import ai.crcd.core.crcd.RelationContrastiveLoss;
import ai.crcd.core.kd.KdLoss;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Regression test for gradients that turned NaN at random steps: DJL's {@code x.div(Number)} (also
 * mul, maximum, minimum) keeps a 0-d tensor over a Java direct buffer in the autograd graph and
 * lets the buffer be garbage-collected before {@code backward}. Here every forward pass is followed
 * by a garbage collection and by fresh direct buffers filled with NaN bit patterns (they reuse the
 * freed memory), then backward; the gradients must still equal their closed forms. See {@link
 * Scalars}.
 */
class GradientsSurviveGarbageCollectionTest {

    private static final double TAU = 0.05;

    @Test
    void scalarOperandsOwnTheirMemory() {
        float[] x = {0.5f, -1.5f, 2f};
        float[] g =
                gradientAfterGc(
                        x,
                        new Shape(3),
                        v ->
                                Scalars.mul(v, 3)
                                        .add(Scalars.div(v, 4))
                                        .add(Scalars.maximum(v, 0.1))
                                        .add(Scalars.minimum(v, 1.0))
                                        .sum());
        for (int i = 0; i < x.length; i++) {
            double exp = 3 + 0.25 + (x[i] > 0.1 ? 1 : 0) + (x[i] < 1 ? 1 : 0);
            assertEquals(exp, g[i], 1e-6, "d/dx_" + i);
        }
    }

    @Test
    void relationContrastiveLossGradientAfterGc() {
        // scores of B = 1 anchor, M = 2 positives, N = 3 negatives, one array [s+ (2), s- (2x3)]
        float[] s = {0.8f, -0.2f, 0.9f, 0.5f, -0.3f, 0.99f, 0.1f, 0.7f};
        RelationContrastiveLoss rc =
                new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, TAU, 0.4, 1.0);
        float[] g =
                gradientAfterGc(
                        s,
                        new Shape(8),
                        v ->
                                rc.fromScores(
                                        v.get("0:2").reshape(1, 2), v.get("2:").reshape(1, 2, 3)));
        for (int i = 0; i < 8; i++) {
            double exp;
            if (i < 2) {
                exp = -1 / TAU / 2; // d/ds+ of -(s+ - 1)/tau, mean over 2 pairs
            } else {
                double h = Math.exp((s[i] - 1) / TAU); // d/ds- of -log(1 - h) = h/(1-h)/tau
                exp = h / (1 - h) / TAU / 2;
            }
            assertEquals(exp, g[i], 1e-4 * Math.max(1, Math.abs(exp)), "d/ds_" + i);
        }
    }

    @Test
    void l2NormalizeGradientAfterGcAndAtZero() {
        // loss = sum_rows a . x/|x|; gradient (a - (a.u) u)/|x|; a zero row stays finite
        float[] x = {3f, 4f, 0f, 0f};
        double[] a = {1, 2};
        float[] g =
                gradientAfterGc(
                        x,
                        new Shape(2, 2),
                        v ->
                                FeatureElement.l2Normalize(v)
                                        .mul(
                                                v.getManager()
                                                        .create(
                                                                new float[] {1, 2, 1, 2},
                                                                new Shape(2, 2)))
                                        .sum());
        double[] u = {0.6, 0.8};
        double au = a[0] * u[0] + a[1] * u[1];
        for (int j = 0; j < 2; j++) {
            assertEquals((a[j] - au * u[j]) / 5, g[j], 1e-6, "d/dx_0" + j);
            assertTrue(Float.isFinite(g[2 + j]), "zero row gradient " + g[2 + j]);
        }
    }

    @Test
    void kdGradientAfterGc() {
        // d/dz_s of alpha T^2 KL(pt || ps) / B = alpha T (ps - pt) / B, T = 4, alpha = 0.5, B = 1
        float[] zs = {1f, -2f, 0.5f};
        float[] zt = {0.3f, 1.2f, -1f};
        double t = 4;
        double alpha = 0.5;
        float[] g =
                gradientAfterGc(
                        zs,
                        new Shape(1, 3),
                        v ->
                                KdLoss.compute(
                                        v, v.getManager().create(zt, new Shape(1, 3)), t, alpha));
        double[] ps = softmax(zs, t);
        double[] pt = softmax(zt, t);
        for (int i = 0; i < 3; i++) {
            assertEquals(alpha * t * (ps[i] - pt[i]), g[i], 1e-6, "d/dz_" + i);
        }
    }

    /** Forward, garbage collection and reuse of freed native memory, backward; the gradient. */
    private static float[] gradientAfterGc(
            float[] x, Shape shape, Function<NDArray, NDArray> loss) {
        try (NDManager m = NDManager.newBaseManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray v = m.create(x, shape);
            v.setRequiresGradient(true);
            NDArray l = loss.apply(v);
            List<ByteBuffer> poison = collectGarbageAndReuseFreedMemory();
            gc.backward(l);
            float[] g = v.getGradient().toFloatArray();
            assertTrue(poison.size() > 0);
            for (float gi : g) {
                assertTrue(Float.isFinite(gi), "gradient " + gi);
            }
            return g;
        }
    }

    private static List<ByteBuffer> collectGarbageAndReuseFreedMemory() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(30); // the Cleaner thread frees the direct buffers
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        List<ByteBuffer> poison = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(8 * (1 + i % 4));
            for (int j = 0; j < b.capacity(); j += 8) {
                b.putLong(j, -1L); // all bits set: NaN as float32 and as float64
            }
            poison.add(b);
        }
        return poison;
    }

    private static double[] softmax(float[] z, double t) {
        double sum = 0;
        double[] e = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.exp(z[i] / t);
            sum += e[i];
        }
        for (int i = 0; i < z.length; i++) {
            e[i] /= sum;
        }
        return e;
    }
}
