package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.Scalars;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each loss of Tab. 3 on B = 2, M = 2, N = 3, C = 4 against plain-Java double formulas. */
class RelationContrastiveLossTest {

    private static final int B = 2;
    private static final int N = 3;
    private static final int C = 4;
    private static final double TAU = 0.5; // large enough that every term matters in float32

    private final double[][][] u = new double[B][B][];
    private final double[][][] vp = new double[B][B][];
    private final double[][][] vn = new double[B][N][];

    RelationContrastiveLossTest() {
        Random r = new Random(3);
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < B; j++) {
                u[i][j] = Ref.unit(Ref.random(r, 1, C)[0]);
                vp[i][j] = Ref.unit(Ref.random(r, 1, C)[0]);
            }
            for (int k = 0; k < N; k++) {
                vn[i][k] = Ref.unit(Ref.random(r, 1, C)[0]);
            }
        }
    }

    private double expected(RelationContrastiveLoss.Type type, double margin, double w) {
        double total = 0;
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < B; j++) {
                double sp = Ref.dot(u[i][j], vp[i][j]);
                double[] sn = new double[N];
                for (int k = 0; k < N; k++) {
                    sn[k] = Ref.dot(u[i][j], vn[i][k]);
                }
                double l = 0;
                switch (type) {
                    case RC:
                        l = -Math.log(Math.exp(sp / TAU) / Math.exp(1 / TAU));
                        for (double s : sn) {
                            l -= w * Math.log(1 - Math.exp(s / TAU) / Math.exp(1 / TAU));
                        }
                        break;
                    case NCE:
                        double z = Math.exp(sp / TAU);
                        for (double s : sn) {
                            z += Math.exp(s / TAU);
                        }
                        l = -Math.log(Math.exp(sp / TAU) / z);
                        break;
                    case TRIPLET:
                        for (double s : sn) {
                            l += Math.max(s - sp + margin, 0) / N;
                        }
                        break;
                    case LOGISTIC:
                        l = -Math.log(sigmoid(sp / TAU));
                        for (double s : sn) {
                            l -= Math.log(1 - sigmoid(s / TAU)) / N;
                        }
                        break;
                    case L2:
                        for (int c = 0; c < C; c++) {
                            double d = u[i][j][c] - vp[i][j][c];
                            l += d * d;
                        }
                        break;
                    default:
                        throw new AssertionError(type);
                }
                total += l;
            }
        }
        return total / (B * B);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void everyLossMatchesPlainJava() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray nu = Ref.nd(m, u);
            NDArray np = Ref.nd(m, vp);
            NDArray nn = Ref.nd(m, vn);
            for (RelationContrastiveLoss.Type t : RelationContrastiveLoss.Type.values()) {
                RelationContrastiveLoss loss = new RelationContrastiveLoss(t, TAU, 0.4, 1.0);
                double exp = expected(t, 0.4, 1.0);
                double got = loss.compute(nu, np, nn).getFloat();
                assertEquals(exp, got, 1e-5 * Math.max(1, Math.abs(exp)), t.toString());
            }
            // the negative weight scales the negative sum of RC only
            RelationContrastiveLoss rc3 =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, TAU, 0.4, 3.0);
            assertEquals(
                    expected(RelationContrastiveLoss.Type.RC, 0.4, 3.0),
                    rc3.compute(nu, np, nn).getFloat(),
                    1e-4);
        }
    }

    @Test
    void paperTemperatureMatchesPlainJava() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelationContrastiveLoss loss =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, 0.05, 0.4, 1.0);
            double exp = 0;
            for (int i = 0; i < B; i++) {
                for (int j = 0; j < B; j++) {
                    exp += (1 - Ref.dot(u[i][j], vp[i][j])) / 0.05;
                    for (int k = 0; k < N; k++) {
                        exp -= Math.log(-Math.expm1((Ref.dot(u[i][j], vn[i][k]) - 1) / 0.05));
                    }
                }
            }
            exp /= B * B;
            float got = loss.compute(Ref.nd(m, u), Ref.nd(m, vp), Ref.nd(m, vn)).getFloat();
            assertEquals(exp, got, 1e-4 * Math.abs(exp));
        }
    }

    @Test
    void noNegativesLeavesOnlyThePositiveTerm() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray empty = m.zeros(new Shape(B, 0, C));
            RelationContrastiveLoss rc =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, TAU, 0.4, 1.0);
            double exp = 0;
            for (int i = 0; i < B; i++) {
                for (int j = 0; j < B; j++) {
                    exp += (1 - Ref.dot(u[i][j], vp[i][j])) / TAU;
                }
            }
            assertEquals(
                    exp / (B * B), rc.compute(Ref.nd(m, u), Ref.nd(m, vp), empty).getFloat(), 1e-5);
            RelationContrastiveLoss nce =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.NCE, TAU, 0.4, 1.0);
            assertEquals(0, nce.compute(Ref.nd(m, u), Ref.nd(m, vp), empty).getFloat(), 1e-7);
        }
    }

    @Test
    void identicalAnchorAndNegativeStaysFinite() {
        try (NDManager m = NDManager.newBaseManager()) {
            // every positive and every negative equals its anchor: h = 1, 1 - h = 0
            NDArray nu = Ref.nd(m, u);
            nu.setRequiresGradient(true);
            for (RelationContrastiveLoss.Type t : RelationContrastiveLoss.Type.values()) {
                RelationContrastiveLoss loss = new RelationContrastiveLoss(t, 0.05, 0.4, 1.0);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray same =
                            Scalars.mul(nu, 1.0000001); // scores slightly above 1 by rounding
                    NDArray neg = same.get(":, 0:1, :").repeat(1, N); // (B, N, C) = u_i0
                    NDArray l = loss.compute(nu, same, neg);
                    gc.backward(l);
                    double v = l.getFloat();
                    assertTrue(Double.isFinite(v), t + " loss " + v);
                    for (float g : nu.getGradient().toFloatArray()) {
                        assertTrue(Float.isFinite(g), t + " gradient " + g);
                    }
                }
            }
            // log h = (s - 1)/tau <= 0, i.e. h <= 1, even when s rounds above 1
            RelationContrastiveLoss rc =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, 0.05, 0.4, 1.0);
            NDArray pos = m.create(new float[] {1.0001f, 1f, 0.5f, -1f}, new Shape(2, 2));
            double exp = (0 + 0 + 0.5 / 0.05 + 2 / 0.05) / 4;
            assertEquals(exp, rc.fromScores(pos, null).getFloat(), 1e-4);
            // log(1 - h) is clamped at log(1e-7) for a negative equal to its anchor
            NDArray x = m.create(new float[] {0f, -1e-3f, -2f});
            float[] got = RelationContrastiveLoss.log1mExp(x).toFloatArray();
            assertEquals(Math.log(1e-7), got[0], 1e-3);
            assertEquals(Math.log(-Math.expm1(-1e-3)), got[1], 1e-4);
            assertEquals(Math.log(-Math.expm1(-2)), got[2], 1e-6);
        }
    }
}
