package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * DKD against mdistiller's {@code dkd_loss} recomputed here in plain Java doubles (loops), its
 * gradient against central finite differences of that computation, the warm-up factor and the
 * option checks.
 */
class DkdTest {

    private static final double[][] S = {
        {1.0, -0.5, 2.0, 0.3}, {0.3, 0.1, -1.2, 0.8}, {-0.7, 1.9, 0.4, -0.1}
    };
    private static final double[][] T = {
        {0.2, 0.9, 1.5, -0.4}, {-2.0, 0.4, 0.0, 1.1}, {0.6, 2.5, -0.3, 0.2}
    };
    private static final long[] Y = {2, 3, 0};

    /** mdistiller's dkd_loss (without warm-up) in doubles: returns {tckd, nckd}, unweighted. */
    private static double[] reference(double[][] s, double[][] t, long[] y, double temp) {
        double tckd = 0;
        double nckd = 0;
        int b = s.length;
        for (int i = 0; i < b; i++) {
            int g = (int) y[i];
            double[] ps = softmax(s[i], temp, -1);
            double[] pt = softmax(t[i], temp, -1);
            double bs1 = ps[g];
            double bs2 = 1 - ps[g];
            double bt1 = pt[g];
            double bt2 = 1 - pt[g];
            tckd += bt1 * Math.log(bt1 / bs1) + bt2 * Math.log(bt2 / bs2);
            // softmax over the other classes only (the -1000 logit gives exactly 0 in doubles)
            double[] qs = softmax(s[i], temp, g);
            double[] qt = softmax(t[i], temp, g);
            for (int c = 0; c < qs.length; c++) {
                if (c != g) {
                    nckd += qt[c] * Math.log(qt[c] / qs[c]);
                }
            }
        }
        double k = temp * temp / b;
        return new double[] {tckd * k, nckd * k};
    }

    private static double[] softmax(double[] z, double temp, int skip) {
        double[] out = new double[z.length];
        double sum = 0;
        for (int c = 0; c < z.length; c++) {
            out[c] = c == skip ? 0 : Math.exp(z[c] / temp);
            sum += out[c];
        }
        for (int c = 0; c < z.length; c++) {
            out[c] /= sum;
        }
        return out;
    }

    private static Distiller dkd(Map<String, Object> options) {
        return Distillers.create("dkd", new DistillerOptions("distill.options", options));
    }

    private static DistillBatch batch(NDManager m, NDArray s, double[][] t, int epoch) {
        return DistillBatch.builder()
                .setTeacher(out(m.create(flat(t), new Shape(t.length, t[0].length))))
                .setStudent(out(s))
                .setLabels(m.create(Y))
                .setParameterStore(new ParameterStore(m, false))
                .optEpoch(epoch)
                .build();
    }

    @Test
    void valuesMatchMdistillerInDoubles() {
        double temp = 3.0;
        double alpha = 0.7;
        double beta = 6.0;
        double[] ref = reference(S, T, Y, temp);
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, Object> opts =
                    Map.of("alpha", alpha, "beta", beta, "temperature", temp, "warmup", 20);
            for (int epoch : new int[] {1, 10, 20, 30}) {
                Distiller d = dkd(opts);
                assertEquals("dkd", d.name());
                assertEquals(ai.crcd.core.TeacherUse.LOGITS, d.teacherUse());
                NDArray s = m.create(flat(S), new Shape(3, 4));
                LossTerms terms = d.losses(batch(m, s, T, epoch));
                double w = Math.min(epoch / 20.0, 1.0);
                assertEquals(List.of("dkd_tckd", "dkd_nckd"), List.copyOf(terms.asMap().keySet()));
                assertEquals(
                        w * alpha * ref[0],
                        terms.asMap().get("dkd_tckd").getDouble(),
                        1e-12,
                        "tckd at epoch " + epoch);
                assertEquals(
                        w * beta * ref[1],
                        terms.asMap().get("dkd_nckd").getDouble(),
                        1e-12,
                        "nckd at epoch " + epoch);
            }
            // float32 logits as in training agree too
            NDArray s32 =
                    m.create(flat(S), new Shape(3, 4))
                            .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            NDArray t32 =
                    m.create(flat(T), new Shape(3, 4))
                            .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            DistillBatch b32 =
                    DistillBatch.builder()
                            .setTeacher(out(t32))
                            .setStudent(out(s32))
                            .setLabels(m.create(Y))
                            .setParameterStore(new ParameterStore(m, false))
                            .optEpoch(40)
                            .build();
            LossTerms terms = dkd(Map.of()).losses(b32);
            double[] def = reference(S, T, Y, 4.0);
            assertEquals(def[0], terms.asMap().get("dkd_tckd").getFloat(), 1e-5);
            assertEquals(8.0 * def[1], terms.asMap().get("dkd_nckd").getFloat(), 1e-5);
        }
    }

    @Test
    void aConfidentTeacherGivesAFiniteLossAsPyTorchsKlDiv() {
        // teacher sure of class 1 in every row: its target probability is exactly 0 in float32
        // where the label is not 1; kl_div's xlogy(0, 0) = 0 keeps the loss finite
        double[][] t = {{0, 3000, 0, 0}, {0, 3000, 0, 0}, {0, 3000, 0, 0}};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s =
                    m.create(flat(S), new Shape(3, 4))
                            .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            NDArray tt =
                    m.create(flat(t), new Shape(3, 4))
                            .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            DistillBatch b =
                    DistillBatch.builder()
                            .setTeacher(out(tt))
                            .setStudent(out(s))
                            .setLabels(m.create(Y))
                            .setParameterStore(new ParameterStore(m, false))
                            .optEpoch(20)
                            .build();
            LossTerms terms = dkd(Map.of()).losses(b);
            // reference: bt = [0, 1] per row, so tckd = sum_i -log(1 - ps_i[y_i]) T^2 / B
            double tckd = 0;
            for (int i = 0; i < 3; i++) {
                tckd -= Math.log(1 - softmax(S[i], 4.0, -1)[(int) Y[i]]);
            }
            tckd *= 16.0 / 3;
            float v = terms.asMap().get("dkd_tckd").getFloat();
            assertTrue(Float.isFinite(v), "tckd " + v);
            assertEquals(tckd, v, 1e-5);
            assertTrue(Float.isFinite(terms.asMap().get("dkd_nckd").getFloat()));
        }
    }

    @Test
    void warmupFactorFollowsMdistillersEpochs() {
        DkdDistiller d = new DkdDistiller(1, 8, 4, 20);
        assertEquals(0.05, d.warmupFactor(1), 1e-15);
        assertEquals(0.5, d.warmupFactor(10), 1e-15);
        assertEquals(1.0, d.warmupFactor(20), 1e-15);
        assertEquals(1.0, d.warmupFactor(30), 1e-15);
        // a batch built without optEpoch is in epoch 1
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(flat(S), new Shape(3, 4));
            DistillBatch b =
                    DistillBatch.builder()
                            .setTeacher(out(m.create(flat(T), new Shape(3, 4))))
                            .setStudent(out(s))
                            .setLabels(m.create(Y))
                            .setParameterStore(new ParameterStore(m, false))
                            .build();
            assertEquals(1, b.epoch());
            double[] ref = reference(S, T, Y, 4.0);
            assertEquals(0.05 * 8 * ref[1], d.losses(b).asMap().get("dkd_nckd").getDouble(), 1e-12);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double temp = 4.0;
        double alpha = 1.0;
        double beta = 8.0;
        int epoch = 5;
        double w = epoch / 20.0;
        double h = 1e-6;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(flat(S), new Shape(3, 4));
            s.setRequiresGradient(true);
            Distiller d =
                    dkd(Map.of("alpha", alpha, "beta", beta, "temperature", temp, "warmup", 20));
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                LossTerms terms = d.losses(batch(m, s, T, epoch));
                gc.backward(terms.total());
            }
            double[] grad = s.getGradient().toDoubleArray();
            for (int i = 0; i < 3; i++) {
                for (int c = 0; c < 4; c++) {
                    double[][] plus = copy(S);
                    double[][] minus = copy(S);
                    plus[i][c] += h;
                    minus[i][c] -= h;
                    double[] rp = reference(plus, T, Y, temp);
                    double[] rm = reference(minus, T, Y, temp);
                    double fd = w * (alpha * (rp[0] - rm[0]) + beta * (rp[1] - rm[1])) / (2 * h);
                    assertEquals(fd, grad[i * 4 + c], 1e-7, "d/ds[" + i + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void optionsAreValidated() {
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("beta", -1.0);
        var e = assertThrows(IllegalArgumentException.class, () -> dkd(bad));
        assertTrue(e.getMessage().contains("distill.options.beta"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> dkd(Map.of("temperature", 0.0)));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> dkd(Map.of("warmup", 0)));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> dkd(Map.of("warmup", 2.5)));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> dkd(Map.of("kd_temperature", 4)));
        assertTrue(e.getMessage().contains("kd_temperature"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DkdDistiller(1, 8, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> DistillBatch.builder().optEpoch(0));
    }

    private static FeatureOutput out(NDArray logits) {
        NDManager m = logits.getManager();
        return FeatureOutput.of(
                logits,
                m.zeros(new Shape(logits.getShape().get(0), 2)),
                null,
                List.of(),
                List.of());
    }

    private static double[] flat(double[][] a) {
        double[] f = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
        }
        return f;
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
