package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The whole CRCD loss of {@link CrcdDistiller#losses} against a plain-Java double computation
 * written from the paper's formulas (Eq. 9-17, Sec. 3.3; docs/crcd.md), with fixed weights set into
 * every block: B = 3 samples, N = 2 buffered negatives, tiny R and C, for the identity, linear
 * (folded and unfolded) and MLP critics and with the gradient element normalised or not.
 *
 * <p>Every weight is different (h1 differs from h2, M^T from M^{T,S}, the feature element's block
 * from the gradient element's), the dims differ (Dt = 4, Ds = 3, R = 5, C = 2, K = 3 classes), so a
 * transposed v+ (pairing u_ij with v+_ji), one critic used on both sides, swapped relation networks
 * or a wrong element change the value.
 */
class CrcdWholeLossTest {

    private static final int B = 3;
    private static final int N = 2;
    private static final int DT = 4;
    private static final int DS = 3;
    private static final int R = 5;
    private static final int C = 2;
    private static final int K = 3; // classes

    private static final double ALPHA = 0.7;
    private static final double BETA_F = 0.3;
    private static final double BETA_G = 0.9;
    private static final double TAU = 0.5;
    private static final double KD_T = 3.0;

    // ---------------------------------------------------------------- plain-Java model

    /** The weights of one relation network M(a, b) = relu(a Wa + ba - b Wb) W + c. */
    private static final class Rel {
        final double[][] wa;
        final double[] ba;
        final double[][] wb;
        final double[][] w;
        final double[] c;

        Rel(Random r, int da, int db) {
            wa = gauss(r, da, R);
            ba = gauss(r, 1, R)[0];
            wb = gauss(r, db, R);
            w = gauss(r, R, R);
            c = gauss(r, 1, R)[0];
        }

        double[] apply(double[] a, double[] b) {
            double[] pa = Ref.vecMat(a, wa);
            double[] pb = Ref.vecMat(b, wb);
            double[] h = new double[R];
            for (int k = 0; k < R; k++) {
                h[k] = Math.max(0, pa[k] + ba[k] - pb[k]);
            }
            return add(Ref.vecMat(h, w), c);
        }
    }

    /** The weights of one critic side h: identity, linear r V + e, MLP relu(r V1 + e1) V2 + e2. */
    private static final class Critic {
        final CriticHead.Type type;
        double[][] v1;
        double[] e1;
        double[][] v;
        double[] e;

        Critic(Random r, CriticHead.Type type) {
            this.type = type;
            if (type == CriticHead.Type.MLP) {
                v1 = gauss(r, R, R);
                e1 = gauss(r, 1, R)[0];
            }
            if (type != CriticHead.Type.IDENTITY) {
                v = gauss(r, R, C);
                e = gauss(r, 1, C)[0];
            }
        }

        double[] apply(double[] rel) {
            double[] x = rel;
            if (type == CriticHead.Type.MLP) {
                x = add(Ref.vecMat(x, v1), e1);
                for (int k = 0; k < x.length; k++) {
                    x[k] = Math.max(0, x[k]);
                }
            }
            if (type != CriticHead.Type.IDENTITY) {
                x = add(Ref.vecMat(x, v), e);
            }
            return Ref.unit(x);
        }
    }

    /** One element's networks: M^T, M^{T,S}, h1, h2. */
    private static final class Element {
        final Rel teacherRel;
        final Rel crossRel;
        final Critic h1;
        final Critic h2;

        Element(Random r, CriticHead.Type type) {
            teacherRel = new Rel(r, DT, DT);
            crossRel = new Rel(r, DT, DS);
            h1 = new Critic(r, type);
            h2 = new Critic(r, type);
        }

        /**
         * L_RC (Eq. 9) for teacher representations t (B, Dt), student s (B, Ds), buffer q (N, Ds):
         * the mean over all B*B pairs (i, j) of -log h(u_ij, v+_ij) - sum_k log(1 - h(u_ij,
         * v-_ik)), h(u, v) = exp((u.v - 1)/tau).
         */
        double rcLoss(double[][] t, double[][] s, double[][] q) {
            double sum = 0;
            for (int i = 0; i < B; i++) {
                double[][] vNeg = new double[N][];
                for (int k = 0; k < N; k++) {
                    vNeg[k] = h2.apply(crossRel.apply(t[i], q[k])); // v-_ik, the same for every j
                }
                for (int j = 0; j < B; j++) {
                    double[] u = h1.apply(teacherRel.apply(t[i], t[j])); // u_ij
                    double[] vPos = h2.apply(crossRel.apply(t[i], s[j])); // v+_ij
                    double pair = -(Ref.dot(u, vPos) - 1) / TAU;
                    for (int k = 0; k < N; k++) {
                        double h = Math.exp((Ref.dot(u, vNeg[k]) - 1) / TAU);
                        pair -= Math.log(1 - h);
                    }
                    sum += pair;
                }
            }
            return sum / (B * B);
        }
    }

    private static double[][] gauss(Random r, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = 0.6 * r.nextGaussian();
            }
        }
        return m;
    }

    private static double[] add(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int k = 0; k < a.length; k++) {
            out[k] = a[k] + b[k];
        }
        return out;
    }

    private static double[] softmax(double[] z, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : z) {
            max = Math.max(max, x / temperature);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int c = 0; c < z.length; c++) {
            p[c] = Math.exp(z[c] / temperature - max);
            sum += p[c];
        }
        for (int c = 0; c < z.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /** z = p W^T + b, W (K, D). */
    private static double[][] logits(double[][] pooled, double[][] w, double[] bias) {
        double[][] z = new double[pooled.length][K];
        for (int n = 0; n < pooled.length; n++) {
            for (int c = 0; c < K; c++) {
                z[n][c] = bias[c] + Ref.dot(pooled[n], w[c]);
            }
        }
        return z;
    }

    /** Eq. 13: g_n = dL_cls/dp_n for L_cls = mean CE: (softmax(z_n) - onehot(y_n)) W / B. */
    private static double[][] gradientElement(double[][] z, int[] y, double[][] w, boolean unit) {
        double[][] g = new double[z.length][w[0].length];
        for (int n = 0; n < z.length; n++) {
            double[] p = softmax(z[n], 1);
            for (int c = 0; c < K; c++) {
                double d = (p[c] - (c == y[n] ? 1 : 0)) / z.length;
                for (int k = 0; k < g[n].length; k++) {
                    g[n][k] += d * w[c][k];
                }
            }
            if (unit) {
                g[n] = Ref.unit(g[n]);
            }
        }
        return g;
    }

    /** Hinton KD: T^2 * mean_n KL(softmax(t_n/T) || softmax(s_n/T)). */
    private static double kd(double[][] zs, double[][] zt) {
        double sum = 0;
        for (int n = 0; n < zs.length; n++) {
            double[] pt = softmax(zt[n], KD_T);
            double[] ps = softmax(zs[n], KD_T);
            for (int c = 0; c < K; c++) {
                sum += pt[c] * (Math.log(pt[c]) - Math.log(ps[c]));
            }
        }
        return KD_T * KD_T * sum / zs.length;
    }

    // ---------------------------------------------------------------- copying into the blocks

    private static void set(NDManager m, Parameter p, double[][] values) {
        NDArray src = m.create(flat(values), new Shape(values.length, values[0].length));
        assertEquals(src.getShape(), p.getArray().getShape(), p.getName());
        p.getArray().set(new NDIndex(":"), src);
    }

    private static void set(NDManager m, Parameter p, double[] values) {
        NDArray src = m.create(values);
        assertEquals(src.getShape(), p.getArray().getShape(), p.getName());
        p.getArray().set(new NDIndex(":"), src);
    }

    private static double[] flat(double[][] a) {
        double[] out = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, out, i * a[0].length, a[0].length);
        }
        return out;
    }

    private static void copy(NDManager m, Rel rel, RelationBlock block) {
        var p = block.getDirectParameters();
        set(m, p.get("anchor_weight"), rel.wa);
        set(m, p.get("anchor_bias"), rel.ba);
        set(m, p.get("sample_weight"), rel.wb);
        set(m, p.get("output_weight"), rel.w);
        set(m, p.get("output_bias"), rel.c);
        assertEquals(5, p.size());
    }

    private static void copy(NDManager m, Critic critic, CriticHead head) {
        var p = head.getDirectParameters();
        int n = 0;
        if (critic.type == CriticHead.Type.MLP) {
            set(m, p.get("hidden_weight"), critic.v1);
            set(m, p.get("hidden_bias"), critic.e1);
            n += 2;
        }
        if (critic.type != CriticHead.Type.IDENTITY) {
            set(m, p.get("weight"), critic.v);
            set(m, p.get("bias"), critic.e);
            n += 2;
        }
        assertEquals(n, p.size());
    }

    private static NDArray nd(NDManager m, double[][] a) {
        return m.create(flat(a), new Shape(a.length, a[0].length));
    }

    // ---------------------------------------------------------------- the test

    @Test
    void wholeLossEqualsThePaperFormulasInPlainJava() {
        int checked = 0;
        for (CriticHead.Type type : CriticHead.Type.values()) {
            for (boolean normalize : new boolean[] {true, false}) {
                for (boolean fold : new boolean[] {true, false}) {
                    if (fold && type != CriticHead.Type.LINEAR) {
                        continue; // folding only applies to a linear critic
                    }
                    check(type, normalize, fold, 100 + checked);
                    checked++;
                }
            }
        }
        assertEquals(8, checked);
    }

    private static void check(CriticHead.Type type, boolean normalize, boolean fold, long seed) {
        String what = type + " normalize_gradient=" + normalize + " fold=" + fold;
        Random r = new Random(seed);
        double[][] tPooled = gauss(r, B, DT);
        double[][] tW = gauss(r, K, DT);
        double[] tB = gauss(r, 1, K)[0];
        double[][] sPooled = gauss(r, B, DS);
        double[][] sW = gauss(r, K, DS);
        double[] sB = gauss(r, 1, K)[0];
        int[] y = {0, 2, 1};
        double[][] qFeature = gauss(r, N, DS); // buffered student representations (any values)
        double[][] qGradient = gauss(r, N, DS);
        Element feature = new Element(r, type);
        Element gradient = new Element(r, type);

        // reference, from the formulas
        double[][] zt = logits(tPooled, tW, tB);
        double[][] zs = logits(sPooled, sW, sB);
        double[][] ft = new double[B][];
        double[][] fs = new double[B][];
        for (int n = 0; n < B; n++) {
            ft[n] = Ref.unit(tPooled[n]);
            fs[n] = Ref.unit(sPooled[n]);
        }
        double[][] gt = gradientElement(zt, y, tW, normalize);
        double[][] gs = gradientElement(zs, y, sW, normalize);
        double wantKd = ALPHA * kd(zs, zt);
        double wantRcF = BETA_F * feature.rcLoss(ft, fs, qFeature);
        double wantRcG = BETA_G * gradient.rcLoss(gt, gs, qGradient);

        try (NDManager m = NDManager.newBaseManager()) {
            CrcdDistiller d =
                    CrcdDistiller.builder()
                            .optAlpha(ALPHA)
                            .optBetaFeature(BETA_F)
                            .optBetaGradient(BETA_G)
                            .optTau(TAU)
                            .optKdTemperature(KD_T)
                            .optNegatives(N)
                            .optRelationDim(R)
                            .optCritic(type)
                            .optCriticDim(C)
                            .optNormalizeGradient(normalize)
                            .optFoldCritic(fold)
                            .build();
            d.initialize(
                    m,
                    DistillSetup.builder()
                            .setFeatureDims(DT, DS)
                            .setNumClasses(K)
                            .optDataType(DataType.FLOAT64)
                            .build());
            List<RelationContrastBlock> blocks =
                    ((CrcdAuxiliaryBlock) d.auxiliaryBlock()).elements();
            assertEquals(
                    List.of(CrcdDistiller.Element.FEATURE, CrcdDistiller.Element.GRADIENT),
                    d.elements());
            Element[] ref = {feature, gradient};
            for (int e = 0; e < 2; e++) {
                copy(m, ref[e].teacherRel, blocks.get(e).teacherRelation());
                copy(m, ref[e].crossRel, blocks.get(e).crossRelation());
                copy(m, ref[e].h1, blocks.get(e).teacherCritic());
                copy(m, ref[e].h2, blocks.get(e).crossCritic());
            }
            // the buffers hold q: (N, Ds) rows, write position 0, N rows filled
            d.loadState(
                    new NDList(
                            nd(m, qFeature),
                            m.create(new long[] {0, N}),
                            nd(m, qGradient),
                            m.create(new long[] {0, N})));

            NDArray tLogits = nd(m, zt);
            NDArray sp = nd(m, sPooled);
            NDArray sWeight = nd(m, sW);
            NDArray sLogits = sp.matMul(sWeight.transpose()).add(m.create(sB)); // (B, K)
            DistillBatch batch =
                    DistillBatch.builder()
                            .setTeacher(
                                    FeatureOutput.of(
                                            tLogits, nd(m, tPooled), null, List.of(), List.of()))
                            .setStudent(FeatureOutput.of(sLogits, sp, null, List.of(), List.of()))
                            .setLabels(m.create(new long[] {y[0], y[1], y[2]}))
                            .setIndices(m.create(new long[] {0, 1, 2}))
                            .optHeadWeights(nd(m, tW), sWeight)
                            .setParameterStore(new ParameterStore(m, false))
                            .build();
            Map<String, NDArray> got = d.losses(batch).asMap();
            assertEquals(List.of("kd", "rc_feature", "rc_gradient"), List.copyOf(got.keySet()));
            assertClose(wantKd, got.get("kd"), what + " kd");
            assertClose(wantRcF, got.get("rc_feature"), what + " rc_feature");
            assertClose(wantRcG, got.get("rc_gradient"), what + " rc_gradient");
            d.close();
        }
    }

    private static void assertClose(double want, NDArray got, String what) {
        double g = got.toType(DataType.FLOAT64, false).getDouble();
        assertEquals(want, g, 1e-9 * Math.max(1, Math.abs(want)), what);
    }
}
