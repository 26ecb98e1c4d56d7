package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.LossTerms;
import ai.crcd.core.kd.KdLoss;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** PKT against RepDistiller's {@code PKT.cosine_similarity_loss} written out in plain doubles. */
class PktDistillerTest {

    static final int B = 5;
    static final int DS = 4;
    static final int DT = 6;

    /** The reference formula, term by term, in doubles. */
    static double plainPkt(double[] fs, double[] ft) {
        double[][] ps = plainProbabilities(ZooFixture.rows(fs, B));
        double[][] pt = plainProbabilities(ZooFixture.rows(ft, B));
        double eps = 1e-7;
        double sum = 0;
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < B; j++) {
                sum += pt[i][j] * Math.log((pt[i][j] + eps) / (ps[i][j] + eps));
            }
        }
        return sum / (B * B);
    }

    static double[][] plainProbabilities(double[][] f) {
        int n = f.length;
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (double v : f[i]) {
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            x[i] = new double[f[i].length];
            for (int j = 0; j < f[i].length; j++) {
                x[i][j] = f[i][j] / (norm + 1e-7);
            }
        }
        double[][] p = new double[n][n];
        for (int i = 0; i < n; i++) {
            double row = 0;
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < x[i].length; k++) {
                    dot += x[i][k] * x[j][k];
                }
                p[i][j] = (dot + 1) / 2;
                row += p[i][j];
            }
            for (int j = 0; j < n; j++) {
                p[i][j] /= row;
            }
        }
        return p;
    }

    static DistillBatch batch(NDManager m, NDArray fs, double[] ft) {
        NDArray t = ZooFixture.array(m, ft, new Shape(B, DT), fs.getDataType());
        return ZooFixture.batch(m, fs, t, List.of(), List.of());
    }

    @Test
    void defaultTermIs30000TimesTheReferenceLoss() {
        Random r = new Random(1);
        double[] fs = ZooFixture.gaussian(r, B * DS, 1);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        Distiller d = Distillers.create("pkt", DistillerOptions.empty());
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), type);
                LossTerms terms = d.losses(batch(m, s, ft));
                assertEquals(List.of("pkt"), List.copyOf(terms.asMap().keySet()));
                NDArray pkt = terms.asMap().get("pkt");
                assertEquals(type, pkt.getDataType());
                double expected = 30000 * plainPkt(fs, ft);
                assertTrue(expected > 10, "a loss worth comparing: " + expected);
                double tol = type == DataType.FLOAT64 ? 1e-9 : 1e-4;
                assertEquals(expected, ZooFixture.values(pkt)[0], tol * expected, type.toString());
            }
        }
    }

    @Test
    void studentGradientMatchesFiniteDifferences() {
        Random r = new Random(2);
        double[] fs = ZooFixture.gaussian(r, B * DS, 1);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        Distiller d = PktDistiller.builder().optBeta(3).build();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), DataType.FLOAT64);
            s.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(d.losses(batch(m, s, ft)).total());
            }
            double[] grad = ZooFixture.values(s.getGradient());
            ZooFixture.assertGradient("d pkt / d fs", fs, grad, x -> 3 * plainPkt(x, ft), 1e-6);
        }
    }

    @Test
    void anAllZeroStudentRowGivesAFiniteGradient() {
        Random r = new Random(3);
        double[] fs = ZooFixture.gaussian(r, B * DS, 1);
        for (int j = 0; j < DS; j++) {
            fs[DS + j] = 0; // row 1 all zero, e.g. a pooled feature after dead ReLUs
        }
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), DataType.FLOAT32);
            s.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray total = PktDistiller.builder().build().losses(batch(m, s, ft)).total();
                assertEquals(30000 * plainPkt(fs, ft), total.getFloat(), 1e-3 * total.getFloat());
                gc.backward(total);
            }
            for (double g : ZooFixture.values(s.getGradient())) {
                assertTrue(Double.isFinite(g), "finite gradient");
            }
        }
    }

    @Test
    void alphaAddsTheSharedKdTerm() {
        Random r = new Random(4);
        double[] fs = ZooFixture.gaussian(r, B * DS, 1);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        Distiller d =
                Distillers.create(
                        "pkt",
                        new DistillerOptions(
                                "distill.options",
                                Map.of("alpha", 0.9, "kd_temperature", 2.0, "beta", 10.0)));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), DataType.FLOAT32);
            DistillBatch batch = batch(m, s, ft);
            LossTerms terms = d.losses(batch);
            assertEquals(List.of("kd", "pkt"), List.copyOf(terms.asMap().keySet()));
            float kd =
                    KdLoss.compute(batch.student().logits(), batch.teacher().logits(), 2.0, 0.9)
                            .getFloat();
            assertEquals(kd, terms.asMap().get("kd").getFloat(), 1e-6);
            assertEquals(10 * plainPkt(fs, ft), terms.asMap().get("pkt").getFloat(), 1e-5);
        }
    }

    @Test
    void badOptionsNameTheKey() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "pkt",
                                        new DistillerOptions(
                                                "distill.options", Map.of("beta", -1.0))));
        assertTrue(e.getMessage().contains("distill.options.beta"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "pkt",
                                        new DistillerOptions(
                                                "distill.options", Map.of("feat_dim", 3))));
        assertTrue(e.getMessage().contains("feat_dim"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PktDistiller.builder().optBeta(Double.NaN).build());
        assertTrue(e.getMessage().startsWith("pkt: option beta"), e.getMessage());
    }
}
