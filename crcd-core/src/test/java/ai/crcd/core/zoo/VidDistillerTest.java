package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.LossTerms;
import ai.crcd.core.kd.KdTerm;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * VID against RepDistiller's {@code VIDLoss} written out in plain doubles (adaptive pooling, 1x1
 * convolutions, softplus variance, Gaussian NLL), with regressor weights fixed by the test. The
 * three stage pairs cover: student pooled 4x4 -&gt; 2x2, teacher pooled 3x3 -&gt; 2x2 (overlapping
 * windows), student pooled 3x3 -&gt; 2x2.
 */
class VidDistillerTest {

    static final int B = 2;
    // per layer: student channels, student size, teacher channels, teacher size
    static final int[] CS = {3, 2, 2};
    static final int[] HS = {4, 2, 3};
    static final int[] CT = {2, 3, 2};
    static final int[] HT = {2, 3, 2};
    static final String[] PARTS = {"conv1_weight", "conv2_weight", "conv3_weight", "log_scale"};

    static List<Shape> shapes(int[] c, int[] h, boolean preAct) {
        List<Shape> s = new ArrayList<>();
        s.add(new Shape(1, 3)); // logits
        s.add(new Shape(1, 7)); // pooled
        s.add(new Shape(1, 4, 8, 8)); // stem
        for (int i = 0; i < c.length; i++) {
            s.add(new Shape(1, c[i], h[i], h[i]));
        }
        if (preAct) {
            s.addAll(s.subList(3, s.size()));
        }
        return s;
    }

    static DistillSetup setup(DataType type) {
        return DistillSetup.builder()
                .setFeatureDims(7, 7)
                .setNumClasses(3)
                .optDataType(type)
                .optOutputShapes(shapes(CT, HT, false), shapes(CS, HS, false))
                .build();
    }

    /** Stage features and regressor parameters as plain arrays. */
    static final class Values {
        final double[][] student = new double[3][];
        final double[][] teacher = new double[3][];
        final double[][][] params = new double[3][4][]; // [layer][conv1, conv2, conv3, alpha]

        Values(long seed) {
            Random r = new Random(seed);
            for (int l = 0; l < 3; l++) {
                student[l] = ZooFixture.gaussian(r, B * CS[l] * HS[l] * HS[l], 1);
                teacher[l] = ZooFixture.gaussian(r, B * CT[l] * HT[l] * HT[l], 1);
                int cm = CT[l];
                params[l][0] = ZooFixture.gaussian(r, cm * CS[l], 0.8); // (Cm, Cs, 1, 1)
                params[l][1] = ZooFixture.gaussian(r, cm * cm, 0.8);
                params[l][2] = ZooFixture.gaussian(r, CT[l] * cm, 0.8);
                params[l][3] = ZooFixture.gaussian(r, CT[l], 1); // alpha
            }
        }

        double plain() {
            double sum = 0;
            for (int l = 0; l < 3; l++) {
                double[] s = student[l];
                double[] t = teacher[l];
                int h = HS[l];
                if (HS[l] > HT[l]) {
                    s = plainPool(s, CS[l], HS[l], HT[l]);
                    h = HT[l];
                } else if (HS[l] < HT[l]) {
                    t = plainPool(t, CT[l], HT[l], HS[l]);
                }
                double[] m1 = relu(conv1x1(s, params[l][0], CS[l], CT[l], h));
                double[] m2 = relu(conv1x1(m1, params[l][1], CT[l], CT[l], h));
                double[] mu = conv1x1(m2, params[l][2], CT[l], CT[l], h);
                double nll = 0;
                for (int b = 0; b < B; b++) {
                    for (int c = 0; c < CT[l]; c++) {
                        double var = Math.log(1 + Math.exp(params[l][3][c])) + 1e-5;
                        for (int p = 0; p < h * h; p++) {
                            int i = (b * CT[l] + c) * h * h + p;
                            double d = mu[i] - t[i];
                            nll += 0.5 * (d * d / var + Math.log(var));
                        }
                    }
                }
                sum += nll / mu.length;
            }
            return sum;
        }
    }

    /** F.adaptive_avg_pool2d to (o, o) of (B, C, n, n), windows [floor(i n/o), ceil((i+1) n/o)). */
    static double[] plainPool(double[] x, int c, int n, int o) {
        double[] y = new double[B * c * o * o];
        for (int bc = 0; bc < B * c; bc++) {
            for (int i = 0; i < o; i++) {
                for (int j = 0; j < o; j++) {
                    int i0 = i * n / o;
                    int i1 = (int) Math.ceil((i + 1) * n / (double) o);
                    int j0 = j * n / o;
                    int j1 = (int) Math.ceil((j + 1) * n / (double) o);
                    double s = 0;
                    for (int a = i0; a < i1; a++) {
                        for (int b = j0; b < j1; b++) {
                            s += x[bc * n * n + a * n + b];
                        }
                    }
                    y[bc * o * o + i * o + j] = s / ((i1 - i0) * (j1 - j0));
                }
            }
        }
        return y;
    }

    /** A bias-free 1x1 convolution of (B, cin, h, h) by w (cout, cin). */
    static double[] conv1x1(double[] x, double[] w, int cin, int cout, int h) {
        int hw = h * h;
        double[] y = new double[B * cout * hw];
        for (int b = 0; b < B; b++) {
            for (int o = 0; o < cout; o++) {
                for (int p = 0; p < hw; p++) {
                    double s = 0;
                    for (int i = 0; i < cin; i++) {
                        s += w[o * cin + i] * x[(b * cin + i) * hw + p];
                    }
                    y[(b * cout + o) * hw + p] = s;
                }
            }
        }
        return y;
    }

    static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0, x[i]);
        }
        return y;
    }

    static void setWeights(Block aux, Values x) {
        for (int l = 0; l < 3; l++) {
            for (int p = 0; p < PARTS.length; p++) {
                String key = "layer" + (l + 1) + "_" + PARTS[p];
                ZooFixture.setValues(ZooFixture.param(aux, key).getArray(), x.params[l][p]);
            }
        }
    }

    static List<NDArray> stages(NDManager m, double[][] v, int[] c, int[] h, DataType type) {
        List<NDArray> out = new ArrayList<>();
        for (int l = 0; l < v.length; l++) {
            out.add(ZooFixture.array(m, v[l], new Shape(B, c[l], h[l], h[l]), type));
        }
        return out;
    }

    static DistillBatch batch(NDManager m, List<NDArray> student, Values x, DataType type) {
        NDArray pooled = ZooFixture.array(m, new double[B * 7], new Shape(B, 7), type);
        return ZooFixture.batch(m, pooled, pooled, student, stages(m, x.teacher, CT, HT, type));
    }

    @Test
    void valueMatchesPlainRegressorsPoolingAndLikelihood() {
        Values x = new Values(31);
        double expected = x.plain();
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            try (NDManager m = NDManager.newBaseManager()) {
                Distiller d = Distillers.create("vid", DistillerOptions.empty());
                d.initialize(m, setup(type));
                setWeights(d.auxiliaryBlock(), x);
                List<NDArray> s = stages(m, x.student, CS, HS, type);
                LossTerms terms = d.losses(batch(m, s, x, type));
                assertEquals(List.of("vid"), List.copyOf(terms.asMap().keySet()));
                double tol = type == DataType.FLOAT64 ? 1e-12 : 1e-5;
                assertEquals(
                        expected, ZooFixture.values(terms.total())[0], tol * expected, "" + type);
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesForStagesAndRegressors() {
        Values x = new Values(32);
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d =
                    Distillers.create(
                            "vid", new DistillerOptions("distill.options", Map.of("beta", 2.0)));
            d.initialize(m, setup(DataType.FLOAT64));
            Block aux = d.auxiliaryBlock();
            setWeights(aux, x);
            List<NDArray> s = stages(m, x.student, CS, HS, DataType.FLOAT64);
            for (NDArray a : s) {
                a.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(d.losses(batch(m, s, x, DataType.FLOAT64)).total());
            }
            for (int l = 0; l < 3; l++) {
                ZooFixture.assertGradient(
                        "d vid / d stage" + (l + 1),
                        x.student[l],
                        ZooFixture.values(s.get(l).getGradient()),
                        v -> 2 * x.plain(),
                        1e-6);
                for (int p = 0; p < PARTS.length; p++) {
                    String key = "layer" + (l + 1) + "_" + PARTS[p];
                    double[] grad =
                            ZooFixture.values(ZooFixture.param(aux, key).getArray().getGradient());
                    ZooFixture.assertGradient(key, x.params[l][p], grad, v -> 2 * x.plain(), 1e-6);
                }
            }
        }
    }

    @Test
    void regressorsStartAsPyTorchConvolutionsWithVarianceFive() {
        try (NDManager m = NDManager.newBaseManager()) {
            int[] cs = {16, 32, 64};
            int[] ct = {32, 64, 128};
            int[] h = {32, 16, 8};
            VidDistiller d = VidDistiller.builder().build();
            d.initialize(
                    m,
                    DistillSetup.builder()
                            .setFeatureDims(128, 64)
                            .setNumClasses(10)
                            .optOutputShapes(shapes(ct, h, false), shapes(cs, h, true))
                            .build());
            Block aux = d.auxiliaryBlock();
            assertEquals(3, d.regressors().layers().size(), "pre-activation copies are no stages");
            for (int l = 0; l < 3; l++) {
                String layer = "layer" + (l + 1) + "_";
                assertEquals(
                        new Shape(ct[l], cs[l], 1, 1),
                        ZooFixture.param(aux, layer + "conv1_weight").getArray().getShape());
                int[] fanIn = {cs[l], ct[l], ct[l]};
                for (int p = 0; p < 3; p++) {
                    double bound = 1 / Math.sqrt(fanIn[p]);
                    double max = 0;
                    for (double v :
                            ZooFixture.values(ZooFixture.param(aux, layer + PARTS[p]).getArray())) {
                        assertTrue(Math.abs(v) <= bound + 1e-7, layer + PARTS[p] + ": " + v);
                        max = Math.max(max, Math.abs(v));
                    }
                    assertTrue(max > 0.8 * bound, layer + PARTS[p] + ": " + max);
                }
                NDArray var =
                        d.regressors()
                                .layers()
                                .get(l)
                                .variance(
                                        new ai.djl.training.ParameterStore(m, false),
                                        m.zeros(new Shape(1)),
                                        false);
                for (double v : ZooFixture.values(var)) {
                    assertEquals(5.0, v, 1e-5, "initial variance = init_pred_var");
                }
            }
            assertTrue(d.estimateStepBytes(setupOf(cs, ct, h), 64) > 10L * 64 * 32 * 32 * 32 * 4);
        }
    }

    private static DistillSetup setupOf(int[] cs, int[] ct, int[] h) {
        return DistillSetup.builder()
                .setFeatureDims(128, 64)
                .setNumClasses(10)
                .optOutputShapes(shapes(ct, h, false), shapes(cs, h, false))
                .build();
    }

    @Test
    void stagesArePairedFromTheFirstAsPythonsZip() {
        try (NDManager m = NDManager.newBaseManager()) {
            VidDistiller d = VidDistiller.builder().build();
            d.initialize(
                    m,
                    DistillSetup.builder()
                            .setFeatureDims(7, 7)
                            .setNumClasses(3)
                            .optOutputShapes(
                                    shapes(
                                            new int[] {8, 16, 32, 64},
                                            new int[] {8, 4, 2, 1},
                                            false),
                                    shapes(CS, HS, false))
                            .build());
            List<VidRegressor> layers = d.regressors().layers();
            assertEquals(3, layers.size());
            assertEquals(List.of(3, 8, 8), toList(layers.get(0).channels()));
            assertEquals(List.of(2, 32, 32), toList(layers.get(2).channels()));
        }
    }

    private static List<Integer> toList(int[] a) {
        List<Integer> l = new ArrayList<>();
        for (int v : a) {
            l.add(v);
        }
        return l;
    }

    @Test
    void stepsLeaveNothingInTheLongLivedManager() {
        Values x = new Values(33);
        try (NDManager base = NDManager.newBaseManager()) {
            Distiller d = VidDistiller.builder().optKdTerm(new KdTerm(1, 4)).build();
            d.initialize(base, setup(DataType.FLOAT32));
            try (NDManager m = base.newSubManager()) {
                base.cap(); // any array attached to base from now on throws
                for (int i = 0; i < 2; i++) {
                    List<NDArray> s = stages(m, x.student, CS, HS, DataType.FLOAT32);
                    s.get(0).setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(d.losses(batch(m, s, x, DataType.FLOAT32)).total());
                    }
                }
            }
        }
    }

    @Test
    void badSetupAndOptionsNameTheProblem() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                VidDistiller.builder()
                                        .build()
                                        .initialize(
                                                null,
                                                DistillSetup.builder()
                                                        .setFeatureDims(7, 7)
                                                        .setNumClasses(3)
                                                        .build()));
        assertTrue(e.getMessage().contains("optOutputShapes"), e.getMessage());
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("beta", -1), Map.of("init_pred_var", 0), Map.of("eps", 1e-3))) {
            String key = bad.keySet().iterator().next();
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Distillers.create(
                                            "vid", new DistillerOptions("distill.options", bad)));
            assertTrue(e.getMessage().contains(key), e.getMessage());
        }
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> VidDistiller.builder().optInitPredVar(1e-6).build());
        assertTrue(e.getMessage().startsWith("vid: option init_pred_var"), e.getMessage());
    }
}
