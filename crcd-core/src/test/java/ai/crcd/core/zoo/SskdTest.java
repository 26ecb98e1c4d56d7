package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InputViews;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SSKD against an independent plain-Java double computation of SSKD's {@code student.py}: the
 * rotation views (pixel positions of numpy's rot90), the rank filter (with ties), the three terms
 * with the SS heads' MLPs, the teacher-head objective, gradients against central finite differences
 * in float64, and option validation.
 */
class SskdTest {

    private static final int B = 3;
    private static final int V = 4;
    private static final int N = V * B;
    private static final int M = (V - 1) * B;
    private static final int C = 4;
    private static final int DS = 3;
    private static final int DT = 2;

    @Test
    void rotationsPutEveryPixelWhereNumpyRot90Does() {
        try (NDManager m = NDManager.newBaseManager()) {
            int b = 2;
            int ch = 2;
            int h = 3;
            float[] x = new float[b * ch * h * h];
            for (int i = 0; i < x.length; i++) {
                x[i] = i;
            }
            InputViews v = InputViews.rotations(m.create(x, new Shape(b, ch, h, h)));
            assertEquals(4, v.views());
            assertEquals(new Shape(4 * b, ch, h, h), v.inputs().getShape());
            float[] out = v.inputs().toFloatArray();
            for (int k = 0; k < 4; k++) {
                for (int n = 0; n < b; n++) {
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0; i < h; i++) {
                            for (int j = 0; j < h; j++) {
                                // numpy.rot90(img, k) applied k times: out[i][j] = in[j][W-1-i]
                                int si = i;
                                int sj = j;
                                for (int r = 0; r < k; r++) {
                                    int ti = sj;
                                    int tj = h - 1 - si;
                                    si = ti;
                                    sj = tj;
                                }
                                float want = x[((n * ch + c) * h + si) * h + sj];
                                float got = out[(((k * b + n) * ch + c) * h + i) * h + j];
                                assertEquals(want, got, 0f, "view " + k + " (" + i + "," + j + ")");
                            }
                        }
                    }
                }
            }
            NDArray originals = InputViews.originals(v.inputs(), 4);
            assertEquals(new Shape(b, ch, h, h), originals.getShape());
            var e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> InputViews.rotations(m.zeros(new Shape(1, 1, 2, 3))));
            assertTrue(e.getMessage().contains("square"), e.getMessage());
        }
    }

    @Test
    void keepMaskMatchesSskdFilterWithTies() {
        long[] rank = {0, 2, 1, 2, 0, 3, 1, 2, 0};
        for (double ratio : new double[] {0, 0.25, 0.5, 0.75, 1.0}) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray mask =
                        SskdLoss.keepMask(m.create(rank), SskdLoss.sskdOrder(m, B, V), ratio);
                boolean[] got = mask.toBooleanArray();
                boolean[] want = keep(toInt(rank), ratio);
                for (int j = 0; j < M; j++) {
                    assertEquals(want[j], got[j], "ratio " + ratio + " row " + j);
                }
            }
        }
    }

    @Test
    void termsMatchPlainJava() {
        Engine.getInstance().setRandomSeed(11);
        Random r = new Random(5);
        Inputs in = Inputs.random(r);
        double ratioTf = 0.5;
        try (NDManager m = NDManager.newBaseManager()) {
            SskdDistiller d =
                    SskdDistiller.builder()
                            .optKd(0.9, 4)
                            .optTransform(2.7, 4, ratioTf)
                            .optSelfSupervision(10, 0.5, 0.75)
                            .build();
            d.initialize(m, setup(DataType.FLOAT32));
            Heads h = Heads.of(d.heads());
            Expected e = expected(in, h, 0.9, 4, 2.7, 4, ratioTf, 10, 0.5, 0.75);
            assertTrue(e.tfDropped > 0, "the fixture must drop rotated rows in the tf filter");
            assertTrue(e.ssDropped > 0, "the fixture must drop rotated rows in the ss filter");
            Map<String, NDArray> t = d.losses(in.batch(m, DataType.FLOAT32, false)).asMap();
            assertEquals(List.of("kd", "sskd_tf", "sskd_ss"), List.copyOf(t.keySet()));
            assertEquals(e.kd, t.get("kd").getFloat(), 1e-5 * Math.abs(e.kd));
            assertEquals(e.tf, t.get("sskd_tf").getFloat(), 1e-5 * Math.abs(e.tf));
            assertEquals(e.ss, t.get("sskd_ss").getFloat(), 1e-5 * Math.abs(e.ss));
            double ce =
                    d.teacherHeadLosses(in.batch(m, DataType.FLOAT32, false))
                            .asMap()
                            .get(SskdDistiller.TEACHER_SS_TERM)
                            .getFloat();
            assertEquals(e.teacherCe, ce, 1e-5 * e.teacherCe);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Engine.getInstance().setRandomSeed(2);
        Random r = new Random(9);
        Inputs in = Inputs.random(r);
        try (NDManager m = NDManager.newBaseManager()) {
            SskdDistiller d = SskdDistiller.builder().optTransform(2.7, 4, 0.5).build();
            d.initialize(m, setup(DataType.FLOAT64));
            // analytic: student logits, student pooled, one student-head weight
            NDArray w = d.heads().studentHead().getParameters().valueAt(0).getArray();
            double[] gLogits;
            double[] gPooled;
            double[] gW;
            try (NDManager sm = m.newSubManager()) {
                DistillBatch batch = in.batch(sm, DataType.FLOAT64, true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(d.losses(batch).total());
                }
                gLogits = batch.student().logits().getGradient().toDoubleArray();
                gPooled = batch.student().pooled().getGradient().toDoubleArray();
                try (NDArray g = w.getGradient()) {
                    gW = g.toDoubleArray();
                    g.subi(g);
                }
            }
            double eps = 1e-6;
            for (int i = 0; i < N * C; i++) {
                double fd = (in.shifted(0, i, eps).loss(d, m) - in.shifted(0, i, -eps).loss(d, m));
                assertEquals(fd / (2 * eps), gLogits[i], 1e-6, "d/d logits[" + i + "]");
            }
            for (int i = 0; i < N * DS; i++) {
                double fd = (in.shifted(1, i, eps).loss(d, m) - in.shifted(1, i, -eps).loss(d, m));
                assertEquals(fd / (2 * eps), gPooled[i], 1e-6, "d/d pooled[" + i + "]");
            }
            double[] w0 = w.toDoubleArray();
            for (int i = 0; i < w0.length; i++) {
                double fd = 0;
                for (int sign : new int[] {1, -1}) {
                    double[] wi = w0.clone();
                    wi[i] += sign * eps;
                    w.set(wi);
                    fd += sign * in.loss(d, m);
                }
                w.set(w0);
                assertEquals(fd / (2 * eps), gW[i], 1e-6, "d/d student head fc1[" + i + "]");
            }
            assertTrue(max(gLogits) > 1e-3 && max(gPooled) > 1e-3, "gradients are not trivial");
        }
    }

    @Test
    void teacherHeadGradientMatchesFiniteDifferences() {
        Engine.getInstance().setRandomSeed(4);
        Inputs in = Inputs.random(new Random(3));
        try (NDManager m = NDManager.newBaseManager()) {
            SskdDistiller d = SskdDistiller.builder().build();
            d.initialize(m, setup(DataType.FLOAT64));
            Parameter p = d.heads().teacherHead().getParameters().valueAt(2);
            assertTrue(p.requiresGradient(), "the init stage trains the teacher head");
            NDArray w = p.getArray();
            double[] g;
            try (NDManager sm = m.newSubManager()) {
                DistillBatch batch = in.batch(sm, DataType.FLOAT64, false);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(d.teacherHeadLosses(batch).total());
                }
                try (NDArray gw = w.getGradient()) {
                    g = gw.toDoubleArray();
                }
            }
            double[] w0 = w.toDoubleArray();
            double eps = 1e-6;
            for (int i = 0; i < w0.length; i++) {
                double fd = 0;
                for (int sign : new int[] {1, -1}) {
                    double[] wi = w0.clone();
                    wi[i] += sign * eps;
                    w.set(wi);
                    try (NDManager sm = m.newSubManager()) {
                        fd +=
                                sign
                                        * d.teacherHeadLosses(in.batch(sm, DataType.FLOAT64, false))
                                                .total()
                                                .getDouble();
                    }
                }
                w.set(w0);
                assertEquals(fd / (2 * eps), g[i], 1e-6, "d/d teacher head fc2[" + i + "]");
            }
            assertTrue(max(g) > 1e-4, "gradient is not trivial");
        }
    }

    @Test
    void optionsAreValidated() {
        Distiller d = Distillers.create("sskd", DistillerOptions.empty());
        assertEquals("sskd", d.name());
        assertEquals(60, ((SskdDistiller) d).initEpochs());
        String[][] bad = {
            {"ratio_ss", "1.5", "[0, 1]"},
            {"ratio_tf", "-0.1", "[0, 1]"},
            {"tf_weight", "-1", ">= 0"},
            {"ss_temperature", "0", "> 0"},
            {"alpha", "-2", ">= 0"},
            {"init_epochs", "-3", ">= 0"},
            {"init_lr", "0", "> 0"},
        };
        for (String[] c : bad) {
            Object v =
                    c[0].equals("init_epochs")
                            ? (Object) Integer.valueOf(c[1])
                            : Double.valueOf(c[1]);
            var e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Distillers.create(
                                            "sskd",
                                            new DistillerOptions(
                                                    "distill.options", Map.of(c[0], v))));
            assertTrue(
                    e.getMessage().contains("distill.options." + c[0])
                            && e.getMessage().contains(c[2]),
                    e.getMessage());
        }
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "sskd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("ratio", 0.5))));
        assertTrue(e.getMessage().contains("ratio_ss"), e.getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            SskdDistiller s = SskdDistiller.builder().build();
            s.initialize(m, setup(DataType.FLOAT32));
            Inputs in = Inputs.random(new Random(1));
            DistillBatch one =
                    DistillBatch.builder()
                            .setTeacher(
                                    in.output(m, in.tLogits, in.tPooled, false, DataType.FLOAT32))
                            .setStudent(
                                    in.output(m, in.sLogits, in.sPooled, false, DataType.FLOAT32))
                            .setLabels(m.create(in.labels))
                            .setParameterStore(new ParameterStore(m, false))
                            .build();
            var ise = assertThrows(IllegalStateException.class, () -> s.losses(one));
            assertTrue(ise.getMessage().contains("trainingViews"), ise.getMessage());
        }
    }

    // ---------------------------------------------------------------- fixtures and reference

    private static DistillSetup setup(DataType type) {
        return DistillSetup.builder()
                .setFeatureDims(DT, DS)
                .setNumClasses(C)
                .optDataType(type)
                .build();
    }

    /** Fixed network outputs on the 4B view-major rows. */
    private static final class Inputs {
        double[][] sLogits;
        double[][] tLogits;
        double[][] sPooled;
        double[][] tPooled;
        long[] labels;

        static Inputs random(Random r) {
            Inputs in = new Inputs();
            in.sLogits = gauss(r, N, C, 2);
            in.tLogits = gauss(r, N, C, 2);
            in.sPooled = gauss(r, N, DS, 1);
            in.tPooled = gauss(r, N, DT, 1);
            in.labels = new long[B];
            for (int i = 0; i < B; i++) {
                in.labels[i] = r.nextInt(C);
            }
            return in;
        }

        Inputs shifted(int which, int flatIndex, double eps) {
            Inputs c = new Inputs();
            c.sLogits = copy(sLogits);
            c.sPooled = copy(sPooled);
            c.tLogits = tLogits;
            c.tPooled = tPooled;
            c.labels = labels;
            double[][] a = which == 0 ? c.sLogits : c.sPooled;
            a[flatIndex / a[0].length][flatIndex % a[0].length] += eps;
            return c;
        }

        double loss(SskdDistiller d, NDManager m) {
            try (NDManager sm = m.newSubManager()) {
                return d.losses(batch(sm, DataType.FLOAT64, false)).total().getDouble();
            }
        }

        DistillBatch batch(NDManager m, DataType type, boolean grad) {
            return DistillBatch.builder()
                    .setTeacher(output(m, tLogits, tPooled, false, type))
                    .setStudent(output(m, sLogits, sPooled, grad, type))
                    .setLabels(m.create(labels))
                    .setParameterStore(new ParameterStore(m, false))
                    .optViews(V)
                    .build();
        }

        FeatureOutput output(
                NDManager m, double[][] logits, double[][] pooled, boolean grad, DataType type) {
            NDArray l = m.create(flat(logits), new Shape(logits.length, C)).toType(type, false);
            NDArray p =
                    m.create(flat(pooled), new Shape(pooled.length, pooled[0].length))
                            .toType(type, false);
            if (grad) {
                l.setRequiresGradient(true);
                p.setRequiresGradient(true);
            }
            return FeatureOutput.of(l, p, null, List.of(), List.of());
        }
    }

    /** The heads' parameters as doubles. */
    private record Heads(double[][][] s, double[][][] t) {
        static Heads of(SskdHeads h) {
            return new Heads(params(h.studentHead()), params(h.teacherHead()));
        }

        /** [w1, b1 as 1 x D, w2, b2 as 1 x D], weights (out, in). */
        static double[][][] params(SskdProjectionHead head) {
            var ps = head.getParameters();
            double[][][] out = new double[4][][];
            for (int i = 0; i < 4; i++) { // fc1 weight, fc1 bias, fc2 weight, fc2 bias
                NDArray a = ps.valueAt(i).getArray();
                long[] sh = a.getShape().getShape();
                int rows = sh.length == 1 ? 1 : (int) sh[0];
                int cols = (int) sh[sh.length - 1];
                double[] f = a.toType(DataType.FLOAT64, false).toDoubleArray();
                out[i] = new double[rows][cols];
                for (int k = 0; k < f.length; k++) {
                    out[i][k / cols][k % cols] = f[k];
                }
            }
            return out;
        }
    }

    private record Expected(
            double kd, double tf, double ss, double teacherCe, int tfDropped, int ssDropped) {}

    private static Expected expected(
            Inputs in,
            Heads h,
            double alpha,
            double kdT,
            double tfW,
            double tfT,
            double ratioTf,
            double ssW,
            double ssT,
            double ratioSs) {
        double kd = 0;
        for (int i = 0; i < B; i++) {
            kd += kl(in.sLogits[i], in.tLogits[i], kdT);
        }
        kd = alpha * kdT * kdT * kd / B;
        // tf: rank of the label in the teacher's softened prediction on each rotated row
        int[] rankTf = new int[M];
        for (int j = 0; j < M; j++) {
            double[] p = softmax(in.tLogits[B + j], tfT);
            rankTf[j] = rank(p, (int) in.labels[j % B]);
        }
        boolean[] keepTf = keep(rankTf, ratioTf);
        double tf = 0;
        int keptTf = 0;
        for (int j = 0; j < M; j++) {
            if (keepTf[j]) {
                tf += kl(in.sLogits[B + j], in.tLogits[B + j], tfT);
                keptTf++;
            }
        }
        tf = tfW * tfT * tfT * tf / Math.max(keptTf, 1);
        double[][] simS = simi(mlp(in.sPooled, h.s()));
        double[][] simT = simi(mlp(in.tPooled, h.t()));
        int[] rankSs = new int[M];
        for (int j = 0; j < M; j++) {
            rankSs[j] = rank(simT[j], j % B);
        }
        boolean[] keepSs = keep(rankSs, ratioSs);
        double ss = 0;
        int keptSs = 0;
        double ce = 0;
        for (int j = 0; j < M; j++) {
            if (keepSs[j]) {
                ss += kl(simS[j], simT[j], ssT);
                keptSs++;
            }
            ce -= Math.log(softmax(simT[j], 1)[j % B]);
        }
        ss = ssW * ssT * ssT * ss / Math.max(keptSs, 1);
        return new Expected(kd, tf, ss, ce / M, M - keptTf, M - keptSs);
    }

    /** SSKD: argsort(rank) then keep the first correct + int(wrong * ratio); ties by row order. */
    private static boolean[] keep(int[] rank, double ratio) {
        List<Integer> rows = new ArrayList<>();
        int wrong = 0;
        for (int j = 0; j < M; j++) {
            rows.add(j);
            if (rank[j] > 0) {
                wrong++;
            }
        }
        rows.sort(Comparator.<Integer>comparingInt(j -> rank[j]).thenComparingInt(j -> sskdRow(j)));
        int n = (M - wrong) + (int) (wrong * ratio);
        boolean[] out = new boolean[M];
        for (int k = 0; k < n; k++) {
            out[rows.get(k)] = true;
        }
        return out;
    }

    /** SSKD's index of view-major rotated row (k-1) B + i among the rotated rows: 3 i + k - 1. */
    private static int sskdRow(int j) {
        return (j % B) * (V - 1) + j / B;
    }

    private static int rank(double[] scores, int target) {
        int r = 0;
        for (double s : scores) {
            if (s > scores[target]) {
                r++;
            }
        }
        return r;
    }

    /** Linear -> ReLU -> Linear, weights (out, in). */
    private static double[][] mlp(double[][] x, double[][][] p) {
        double[][] out = new double[x.length][];
        for (int n = 0; n < x.length; n++) {
            double[] h = affine(x[n], p[0], p[1][0]);
            for (int k = 0; k < h.length; k++) {
                h[k] = Math.max(h[k], 0);
            }
            out[n] = affine(h, p[2], p[3][0]);
        }
        return out;
    }

    private static double[] affine(double[] x, double[][] w, double[] b) {
        double[] y = new double[w.length];
        for (int o = 0; o < w.length; o++) {
            y[o] = b[o];
            for (int i = 0; i < x.length; i++) {
                y[o] += w[o][i] * x[i];
            }
        }
        return y;
    }

    /** F.cosine_similarity of each rotated row with each original, (M, B). */
    private static double[][] simi(double[][] z) {
        double[][] s = new double[M][B];
        for (int j = 0; j < M; j++) {
            for (int i = 0; i < B; i++) {
                double[] a = z[B + j];
                double[] o = z[i];
                double dot = 0;
                double na = 0;
                double no = 0;
                for (int k = 0; k < a.length; k++) {
                    dot += a[k] * o[k];
                    na += a[k] * a[k];
                    no += o[k] * o[k];
                }
                s[j][i] = dot / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(no), 1e-8));
            }
        }
        return s;
    }

    /** KL(softmax(t/T) || softmax(s/T)). */
    private static double kl(double[] s, double[] t, double temp) {
        double[] q = softmax(s, temp);
        double[] p = softmax(t, temp);
        double v = 0;
        for (int c = 0; c < p.length; c++) {
            v += p[c] * Math.log(p[c] / q[c]);
        }
        return v;
    }

    private static double[] softmax(double[] z, double temp) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v / temp);
        }
        double sum = 0;
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = Math.exp(z[i] / temp - max);
            sum += out[i];
        }
        for (int i = 0; i < z.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    private static double[][] gauss(Random r, int rows, int cols, double scale) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) {
            for (int c = 0; c < cols; c++) {
                row[c] = scale * r.nextGaussian();
            }
        }
        return a;
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static double[] flat(double[][] a) {
        double[] f = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
        }
        return f;
    }

    private static int[] toInt(long[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (int) a[i];
        }
        return r;
    }

    private static double max(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
