package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InitStage;
import ai.crcd.core.LossTerms;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AB against RepDistiller's {@code ABLoss} and {@code Connector} recomputed here with loops in
 * doubles: stage 1 with an identity connector, stage 2 with a 1x1 convolution + BatchNorm connector
 * (batch statistics in the init stage, running statistics in the main stage); the gradient against
 * central finite differences; the init stage it asks for; the connector cases of {@code ConvReg};
 * option checks.
 */
class AbTest {

    private static final int B = 2;
    private static final Shape S1 = new Shape(B, 2, 4, 4);
    private static final Shape S2 = new Shape(B, 2, 2, 2);
    private static final Shape T2 = new Shape(B, 3, 2, 2);
    private static final double M = 1.0;

    /** RepDistiller's criterion_alternative_l2 summed. */
    private static double criterion(double[] s, double[] t) {
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            if (s[i] > -M && t[i] <= 0) {
                sum += (s[i] + M) * (s[i] + M);
            }
            if (s[i] <= M && t[i] > 0) {
                sum += (s[i] - M) * (s[i] - M);
            }
        }
        return sum;
    }

    /** 1x1 convolution (weight (3, 2), bias (3)) then BatchNorm (batch or unit statistics). */
    private static double[] connector(double[] x, double[] w, double[] bias, boolean batchStats) {
        int hw = 4;
        double[] y = new double[B * 3 * hw];
        for (int b = 0; b < B; b++) {
            for (int o = 0; o < 3; o++) {
                for (int p = 0; p < hw; p++) {
                    double acc = bias[o];
                    for (int i = 0; i < 2; i++) {
                        acc += w[o * 2 + i] * x[(b * 2 + i) * hw + p];
                    }
                    y[(b * 3 + o) * hw + p] = acc;
                }
            }
        }
        for (int o = 0; o < 3; o++) {
            double mean = 0;
            double var = 1;
            if (batchStats) {
                mean = 0;
                for (int b = 0; b < B; b++) {
                    for (int p = 0; p < hw; p++) {
                        mean += y[(b * 3 + o) * hw + p] / (B * hw);
                    }
                }
                var = 0;
                for (int b = 0; b < B; b++) {
                    for (int p = 0; p < hw; p++) {
                        double d = y[(b * 3 + o) * hw + p] - mean;
                        var += d * d / (B * hw);
                    }
                }
            }
            for (int b = 0; b < B; b++) {
                for (int p = 0; p < hw; p++) {
                    int k = (b * 3 + o) * hw + p;
                    y[k] = (y[k] - mean) / Math.sqrt(var + 1e-5);
                }
            }
        }
        return y;
    }

    private static double reference(
            double[] s1,
            double[] s2,
            double[] t1,
            double[] t2,
            double[] w,
            double[] b,
            boolean batchStats) {
        double l1 = 0.5 * criterion(s1, t1) / B / 1000 * 3; // w_k = 2^(k-K+1), K = 2
        double l2 = 1.0 * criterion(connector(s2, w, b, batchStats), t2) / B / 1000 * 3;
        return l1 + l2;
    }

    private static Distiller initialised(NDManager m, Map<String, Object> options) {
        Distiller d = ZooFixtures.create("ab", options);
        List<Shape> s = ZooFixtures.layout(new Shape(B, 2, 4, 4), List.of(S1, S2), true);
        List<Shape> t = ZooFixtures.layout(new Shape(B, 2, 4, 4), List.of(S1, T2), true);
        d.initialize(m, ZooFixtures.setup(t, s));
        return d;
    }

    private static double[] param(Distiller d, String suffix) {
        for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
            if (p.getKey().endsWith(suffix)) {
                return p.getValue().getArray().toDoubleArray();
            }
        }
        throw new AssertionError(suffix);
    }

    private static FeatureOutput out(NDManager m, NDArray a1, NDArray a2) {
        // stage outputs are not read by AB: pass relu'd copies like a network would
        return ZooFixtures.output(
                m,
                m.zeros(new Shape(B, 2, 4, 4)),
                List.of(ai.djl.nn.Activation.relu(a1), ai.djl.nn.Activation.relu(a2)),
                List.of(a1, a2));
    }

    @Test
    void valueMatchesRepDistillerInDoubles() {
        double[] s1 = ZooFixtures.values(1, 64);
        double[] s2 = ZooFixtures.values(2, 16);
        double[] t1 = ZooFixtures.values(3, 64);
        double[] t2 = ZooFixtures.values(4, 24);
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = initialised(m, Map.of());
            assertTrue(d.usesPreActivations());
            assertEquals(1, ((AbConnectors) d.auxiliaryBlock()).convolutional());
            double[] w = param(d, "conv_weight");
            double[] b = param(d, "conv_bias");
            assertEquals(6, w.length);
            for (double v : w) { // PyTorch's default init: U(+-1/sqrt(fan_in = 2))
                assertTrue(Math.abs(v) <= 1 / Math.sqrt(2), "" + v);
            }
            double refInit = reference(s1, s2, t1, t2, w, b, true);
            double refMain = reference(s1, s2, t1, t2, w, b, false);
            assertTrue(refInit > 1e-3 && Math.abs(refInit - refMain) > 1e-6);
            DistillBatch batch =
                    ZooFixtures.batch(
                            m,
                            out(m, m.create(t1, S1), m.create(t2, T2)),
                            out(m, m.create(s1, S1), m.create(s2, S2)));
            InitStage init = d.initStage().orElseThrow();
            assertEquals(30, init.epochs());
            assertTrue(init.trainsStudentFeatures() && init.studentTraining());
            assertEquals(List.of(d.auxiliaryBlock()), init.initOnlyBlocks());
            assertTrue(init.learningRate().isEmpty());
            // main stage with beta > 0: the connector in inference mode (unit running stats)
            Distiller d2 = initialised(m, Map.of("beta", 2.0));
            double[] w2 = param(d2, "conv_weight");
            double[] b2 = param(d2, "conv_bias");
            assertEquals(
                    2 * reference(s1, s2, t1, t2, w2, b2, false),
                    d2.losses(batch).asMap().get("ab").getDouble(),
                    1e-12);
            LossTerms terms = init.objective().losses(batch);
            assertEquals(List.of("ab"), List.copyOf(terms.asMap().keySet()));
            assertEquals(refInit, terms.asMap().get("ab").getDouble(), 1e-12);
            assertTrue(d.losses(batch).isEmpty()); // beta 0: RepDistiller's main stage has no AB
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[] s1 = ZooFixtures.values(11, 64);
        double[] s2 = ZooFixtures.values(12, 16);
        double[] t1 = ZooFixtures.values(13, 64);
        double[] t2 = ZooFixtures.values(14, 24);
        double h = 1e-6;
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = initialised(m, Map.of());
            double[] w = param(d, "conv_weight");
            double[] b = param(d, "conv_bias");
            NDArray a1 = m.create(s1, S1);
            NDArray a2 = m.create(s2, S2);
            a1.setRequiresGradient(true);
            a2.setRequiresGradient(true);
            DistillBatch batch =
                    ZooFixtures.batch(
                            m, out(m, m.create(t1, S1), m.create(t2, T2)), out(m, a1, a2));
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                gc.backward(d.initStage().orElseThrow().objective().losses(batch).total());
            }
            double[] g1 = a1.getGradient().toDoubleArray();
            double[] g2 = a2.getGradient().toDoubleArray();
            for (int i = 0; i < s1.length; i += 3) {
                double keep = s1[i];
                s1[i] = keep + h;
                double plus = reference(s1, s2, t1, t2, w, b, true);
                s1[i] = keep - h;
                double minus = reference(s1, s2, t1, t2, w, b, true);
                s1[i] = keep;
                assertEquals((plus - minus) / (2 * h), g1[i], 1e-8, "stage1 " + i);
            }
            for (int i = 0; i < s2.length; i++) {
                double keep = s2[i];
                s2[i] = keep + h;
                double plus = reference(s1, s2, t1, t2, w, b, true);
                s2[i] = keep - h;
                double minus = reference(s1, s2, t1, t2, w, b, true);
                s2[i] = keep;
                assertEquals((plus - minus) / (2 * h), g2[i], 1e-8, "stage2 " + i);
            }
        }
    }

    @Test
    void connectorShapesFollowConvReg() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape[][] cases = {
                {new Shape(1, 4, 8, 8), new Shape(1, 6, 4, 4)}, // 3x3 stride 2
                {new Shape(1, 4, 4, 4), new Shape(1, 6, 8, 8)}, // 4x4 transposed, stride 2
                {new Shape(1, 4, 6, 6), new Shape(1, 6, 4, 4)}, // 3x3 valid
            };
            long[] kernel = {3, 4, 3};
            for (int i = 0; i < cases.length; i++) {
                ConvReg r = new ConvReg(cases[i][0], cases[i][1], false);
                r.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32, cases[i][0]);
                NDArray x = m.randomNormal(cases[i][0]);
                NDArray y =
                        r.forward(
                                        new ai.djl.training.ParameterStore(m, false),
                                        new ai.djl.ndarray.NDList(x),
                                        true)
                                .singletonOrThrow();
                assertEquals(cases[i][1], y.getShape(), "case " + i);
                Shape ws = r.getParameters().get(0).getValue().getArray().getShape();
                assertEquals(kernel[i], ws.get(2), "kernel of case " + i);
            }
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new ConvReg(new Shape(1, 4, 2, 2), new Shape(1, 4, 8, 8), true));
        }
    }

    @Test
    void optionsAndInputsAreChecked() {
        assertTrue(Distillers.registry().containsKey("ab"));
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ab", Map.of("margin", 0.0)));
        assertTrue(e.getMessage().contains("distill.options.margin"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ab", Map.of("init_epochs", 2.5)));
        assertTrue(e.getMessage().contains("distill.options.init_epochs"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ab", Map.of("feat_dim", 3)));
        assertTrue(e.getMessage().contains("unknown key(s) [feat_dim]"), e.getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = initialised(m, Map.of("init_epochs", 0, "beta", 1.0));
            assertTrue(d.initStage().isEmpty());
            NDArray x = m.create(ZooFixtures.values(5, 64), S1);
            FeatureOutput noPre = ZooFixtures.output(m, x, List.of(x, m.zeros(S2)), List.of());
            var ise =
                    assertThrows(
                            IllegalStateException.class,
                            () -> d.losses(ZooFixtures.batch(m, noPre, noPre)));
            assertTrue(ise.getMessage().contains("optPreActivation(true)"), ise.getMessage());
        }
    }
}
