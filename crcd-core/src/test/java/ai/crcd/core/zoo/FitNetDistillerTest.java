package ai.crcd.core.zoo;

import static ai.crcd.core.zoo.ZooFixture.Map4;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FitNetDistiller} and {@link ConvReg}: the hint loss against a plain-Java ConvReg (each of
 * RepDistiller's three convolutions, BatchNorm on batch statistics, ReLU) and MSE, gradients of the
 * student map and of every regressor parameter against finite differences, PyTorch's default
 * initialisation, hint_layer validation and crcd-models' teacher/student shapes.
 */
class FitNetDistillerTest {

    private static final int B = 2;

    static Distiller fitnet(Map<String, Object> options) {
        return Distillers.create("fitnet", new DistillerOptions("distill.options", options));
    }

    /** One case: [stem, stage1, stage2, stage3] (C, H, W) of teacher and student. */
    private static final class Case {
        final int[][] teacher;
        final int[][] student;
        final ConvReg.Kind kind;

        Case(int[] t2, int[] s2, ConvReg.Kind kind) {
            this.teacher = new int[][] {{2, 6, 6}, {3, 6, 6}, t2, {2, 2, 2}};
            this.student = new int[][] {{3, 6, 6}, {2, 6, 6}, s2, {2, 3, 3}};
            this.kind = kind;
        }

        DistillSetup setup(DataType type) {
            return ZooFixture.setup(
                    ZooFixture.outputShapes(4, teacher), ZooFixture.outputShapes(4, student), type);
        }
    }

    private static final List<Case> CASES =
            List.of(
                    new Case(new int[] {4, 3, 3}, new int[] {3, 6, 6}, ConvReg.Kind.STRIDED),
                    new Case(new int[] {2, 6, 6}, new int[] {3, 3, 3}, ConvReg.Kind.TRANSPOSED),
                    // non-square kernel (1 + 5 - 3) x (1 + 5 - 2)
                    new Case(new int[] {3, 3, 2}, new int[] {2, 5, 5}, ConvReg.Kind.VALID),
                    // equal sizes: 1x1
                    new Case(new int[] {5, 4, 4}, new int[] {3, 4, 4}, ConvReg.Kind.VALID));

    /** Teacher and student outputs of random maps for a case's shapes. */
    private static final class Maps {
        final List<Map4> t;
        final List<Map4> s;

        Maps(Case c, long seed) {
            Random r = new Random(seed);
            t = ZooFixture.randomMaps(r, B, c.teacher);
            s = ZooFixture.randomMaps(r, B, c.student);
        }
    }

    private static FeatureOutput output(NDManager m, List<Map4> maps, DataType type, long seed) {
        return ZooFixture.output(
                m, maps.get(0), ZooFixture.arrays(m, maps.subList(1, maps.size()), type), seed);
    }

    private static DistillBatch batch(NDManager m, Maps x, DataType type) {
        return ZooFixture.batch(m, output(m, x.t, type, 2), output(m, x.s, type, 1));
    }

    // ---- plain-Java ConvReg ----------------------------------------------------------------

    private static double[] values(Block b, String name) {
        return b.getParameters()
                .get(name)
                .getArray()
                .toType(DataType.FLOAT64, false)
                .toDoubleArray();
    }

    /** ConvReg(student map) in plain Java with the block's parameters. */
    static Map4 convReg(ConvReg reg, Map4 x, Shape teacher) {
        int ct = (int) teacher.get(1);
        int th = (int) teacher.get(2);
        int tw = (int) teacher.get(3);
        double[] w = values(reg.conv(), "weight");
        double[] bias = values(reg.conv(), "bias");
        double[][][][] y = new double[x.b()][ct][th][tw];
        int cs = x.c();
        if (reg.kind() == ConvReg.Kind.TRANSPOSED) {
            // weight (Cs, Ct, 4, 4); out[2i - 1 + ky][2j - 1 + kx] += in[i][j] * w
            for (int b = 0; b < x.b(); b++) {
                for (int o = 0; o < ct; o++) {
                    for (int yy = 0; yy < th; yy++) {
                        for (int xx = 0; xx < tw; xx++) {
                            y[b][o][yy][xx] = bias[o];
                        }
                    }
                    for (int c = 0; c < cs; c++) {
                        for (int i = 0; i < x.h(); i++) {
                            for (int j = 0; j < x.w(); j++) {
                                for (int ky = 0; ky < 4; ky++) {
                                    for (int kx = 0; kx < 4; kx++) {
                                        int oy = 2 * i - 1 + ky;
                                        int ox = 2 * j - 1 + kx;
                                        if (oy >= 0 && oy < th && ox >= 0 && ox < tw) {
                                            y[b][o][oy][ox] +=
                                                    x.v[b][c][i][j]
                                                            * w[((c * ct + o) * 4 + ky) * 4 + kx];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } else {
            boolean strided = reg.kind() == ConvReg.Kind.STRIDED;
            int stride = strided ? 2 : 1;
            int pad = strided ? 1 : 0;
            int kh = strided ? 3 : 1 + x.h() - th;
            int kw = strided ? 3 : 1 + x.w() - tw;
            for (int b = 0; b < x.b(); b++) {
                for (int o = 0; o < ct; o++) {
                    for (int yy = 0; yy < th; yy++) {
                        for (int xx = 0; xx < tw; xx++) {
                            double s = bias[o];
                            for (int c = 0; c < cs; c++) {
                                for (int ky = 0; ky < kh; ky++) {
                                    for (int kx = 0; kx < kw; kx++) {
                                        int iy = yy * stride - pad + ky;
                                        int ix = xx * stride - pad + kx;
                                        if (iy >= 0 && iy < x.h() && ix >= 0 && ix < x.w()) {
                                            s +=
                                                    x.v[b][c][iy][ix]
                                                            * w[((o * cs + c) * kh + ky) * kw + kx];
                                        }
                                    }
                                }
                            }
                            y[b][o][yy][xx] = s;
                        }
                    }
                }
            }
        }
        // BatchNorm with the batch's statistics (biased variance, eps 1e-5), then ReLU
        double[] gamma = values(reg.batchNorm(), "gamma");
        double[] beta = values(reg.batchNorm(), "beta");
        int n = x.b() * th * tw;
        for (int o = 0; o < ct; o++) {
            double mean = 0;
            for (int b = 0; b < x.b(); b++) {
                for (double[] row : y[b][o]) {
                    for (double v : row) {
                        mean += v / n;
                    }
                }
            }
            double var = 0;
            for (int b = 0; b < x.b(); b++) {
                for (double[] row : y[b][o]) {
                    for (double v : row) {
                        var += (v - mean) * (v - mean) / n;
                    }
                }
            }
            for (int b = 0; b < x.b(); b++) {
                for (double[] row : y[b][o]) {
                    for (int k = 0; k < row.length; k++) {
                        double z = gamma[o] * (row[k] - mean) / Math.sqrt(var + 1e-5) + beta[o];
                        row[k] = Math.max(z, 0);
                    }
                }
            }
        }
        return new Map4(y);
    }

    static double mse(Map4 a, Map4 b) {
        double[] x = a.flat();
        double[] y = b.flat();
        assertEquals(x.length, y.length);
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (x[i] - y[i]) * (x[i] - y[i]);
        }
        return s / x.length;
    }

    // ---- tests -----------------------------------------------------------------------------

    @Test
    void valueMatchesPlainJavaConvRegAndMseForEachConvolution() {
        Engine.getInstance().setRandomSeed(41);
        try (NDManager m = NDManager.newBaseManager()) {
            int i = 0;
            for (Case c : CASES) {
                Maps x = new Maps(c, 100 + i++);
                for (DataType type : List.of(DataType.FLOAT64, DataType.FLOAT32)) {
                    FitNetDistiller d = (FitNetDistiller) fitnet(Map.of("beta", 3.0));
                    d.initialize(m, c.setup(type));
                    ConvReg reg = (ConvReg) d.auxiliaryBlock();
                    assertEquals(c.kind, reg.kind());
                    Shape t = x.t.get(2).shape();
                    double expected = 3.0 * mse(convReg(reg, x.s.get(2), t), x.t.get(2));
                    assertTrue(expected > 0.1, "degenerate fixture " + expected);
                    LossTerms terms = d.losses(batch(m, x, type));
                    assertEquals(List.of("fitnet"), List.copyOf(terms.asMap().keySet()));
                    double tol = type == DataType.FLOAT64 ? 1e-10 : 1e-5;
                    assertEquals(
                            expected,
                            ZooFixture.value(terms, "fitnet"),
                            tol * expected,
                            c.kind + " " + type);
                }
            }
        }
    }

    @Test
    void hintLayerPicksRepDistillersFeatsAndAlphaAddsKd() {
        Engine.getInstance().setRandomSeed(42);
        Case c = CASES.get(0);
        Maps x = new Maps(c, 7);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int layer : new int[] {0, 1, 3}) {
                FitNetDistiller d =
                        (FitNetDistiller) fitnet(Map.of("hint_layer", layer, "alpha", 0.5));
                d.initialize(m, c.setup(DataType.FLOAT64));
                ConvReg reg = (ConvReg) d.auxiliaryBlock();
                double expected =
                        100
                                * mse(
                                        convReg(reg, x.s.get(layer), x.t.get(layer).shape()),
                                        x.t.get(layer));
                LossTerms terms = d.losses(batch(m, x, DataType.FLOAT64));
                assertEquals(List.of("fitnet", "kd"), List.copyOf(terms.asMap().keySet()));
                assertEquals(expected, ZooFixture.value(terms, "fitnet"), 1e-10 * expected);
            }
        }
    }

    @Test
    void gradientsOfStudentMapAndRegressorMatchFiniteDifferences() {
        for (Case c : List.of(CASES.get(0), CASES.get(1), CASES.get(2))) {
            Engine.getInstance().setRandomSeed(43);
            Maps x = new Maps(c, 9);
            try (NDManager m = NDManager.newBaseManager()) {
                DistillSetup setup = c.setup(DataType.FLOAT64);
                // the student map
                FitNetDistiller d = (FitNetDistiller) fitnet(Map.of());
                d.initialize(m, setup);
                FeatureOutput teacher = output(m, x.t, DataType.FLOAT64, 2);
                NDArray stem = x.s.get(0).array(m, DataType.FLOAT64);
                NDArray s1 = x.s.get(1).array(m, DataType.FLOAT64);
                NDArray s3 = x.s.get(3).array(m, DataType.FLOAT64);
                ZooFixture.checkGradient(
                        m,
                        List.of(x.s.get(2).array(m, DataType.FLOAT64)),
                        in -> {
                            FeatureOutput s =
                                    FeatureOutput.of(
                                            teacher.logits(),
                                            teacher.pooled(),
                                            stem,
                                            new ArrayList<>(List.of(s1, in.get(0), s3)),
                                            List.of());
                            return d.losses(ZooFixture.batch(m, teacher, s)).total();
                        },
                        1e-5);
                // every regressor parameter: conv weight and bias, BN gamma and beta
                FitNetDistiller fresh = (FitNetDistiller) fitnet(Map.of());
                fresh.initialize(m, setup);
                checkParameterGradients(m, fresh, batch(m, x, DataType.FLOAT64));
            }
        }
    }

    private static void checkParameterGradients(NDManager m, Distiller d, DistillBatch batch) {
        List<Parameter> params = new ArrayList<>();
        for (var p : d.auxiliaryBlock().getParameters()) {
            if (p.getValue().requiresGradient()) {
                params.add(p.getValue());
            }
        }
        assertEquals(4, params.size(), "conv weight, conv bias, BN gamma, BN beta");
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(d.losses(batch).total());
        }
        double h = 1e-6;
        for (Parameter p : params) {
            NDArray w = p.getArray();
            double[] auto = w.getGradient().toDoubleArray();
            double[] base = w.toDoubleArray();
            double largest = 0;
            double[] fd = new double[base.length];
            for (int k = 0; k < base.length; k++) {
                double[] v = base.clone();
                v[k] += h;
                w.set(v);
                double lp = d.losses(batch).total().getDouble();
                v[k] -= 2 * h;
                w.set(v);
                double lm = d.losses(batch).total().getDouble();
                w.set(base);
                fd[k] = (lp - lm) / (2 * h);
                largest = Math.max(largest, Math.abs(fd[k]));
            }
            if ("bias".equals(p.getName())) {
                // BatchNorm on batch statistics removes any per-channel shift: the conv bias gets
                // no gradient (in PyTorch too)
                for (int k = 0; k < base.length; k++) {
                    assertEquals(0, fd[k], 1e-7, "bias fd " + k);
                    assertEquals(0, auto[k], 1e-12, "bias grad " + k);
                }
                continue;
            }
            assertTrue(largest > 1e-3, p.getName() + ": all finite differences are ~0");
            for (int k = 0; k < base.length; k++) {
                double scale = Math.max(Math.abs(fd[k]), 0.01 * largest);
                assertEquals(fd[k], auto[k], 1e-5 * scale, p.getName() + " entry " + k);
            }
        }
    }

    @Test
    void initialisationIsPyTorchsDefaultWithTheTransposedConvolutionsFanIn() {
        Engine.getInstance().setRandomSeed(44);
        try (NDManager m = NDManager.newBaseManager()) {
            // strided conv 8 -> 16 channels, 3x3: weight (16, 8, 3, 3), fan-in 8 * 9 = 72
            ConvReg strided = new ConvReg(new Shape(1, 8, 8, 8), new Shape(1, 16, 4, 4), true);
            strided.initialize(m, DataType.FLOAT32, new Shape(1, 8, 8, 8));
            assertUniform(strided, new long[] {16, 8, 3, 3}, 72);
            // transposed 8 -> 16 channels, 4x4: PyTorch's weight (8, 16, 4, 4), fan-in read from
            // its axis 1: 16 * 16 = 256 (not 8 * 16)
            ConvReg transposed = new ConvReg(new Shape(1, 8, 4, 4), new Shape(1, 16, 8, 8), true);
            transposed.initialize(m, DataType.FLOAT32, new Shape(1, 8, 4, 4));
            assertUniform(transposed, new long[] {8, 16, 4, 4}, 256);
            for (ConvReg r : List.of(strided, transposed)) {
                double[] gamma = values(r.batchNorm(), "gamma");
                double[] beta = values(r.batchNorm(), "beta");
                for (int i = 0; i < 16; i++) {
                    assertEquals(1.0, gamma[i], 0);
                    assertEquals(0.0, beta[i], 0);
                }
            }
            // output shapes are the teacher's
            NDArray y =
                    transposed
                            .forward(
                                    new ParameterStore(m, false),
                                    new NDList(m.randomNormal(new Shape(3, 8, 4, 4))),
                                    true)
                            .singletonOrThrow();
            assertEquals(new Shape(3, 16, 8, 8), y.getShape());
        }
    }

    private static void assertUniform(ConvReg r, long[] weightShape, int fanIn) {
        NDArray w = r.conv().getParameters().get("weight").getArray();
        assertArrayEquals(weightShape, w.getShape().getShape());
        double bound = 1 / Math.sqrt(fanIn);
        double[] v = w.toType(DataType.FLOAT64, false).toDoubleArray();
        double max = 0;
        double sq = 0;
        for (double d : v) {
            max = Math.max(max, Math.abs(d));
            sq += d * d;
        }
        double std = Math.sqrt(sq / v.length);
        assertTrue(
                max <= bound * (1 + 1e-6) && max > 0.95 * bound, "max " + max + " bound " + bound);
        assertEquals(bound / Math.sqrt(3), std, 0.1 * bound / Math.sqrt(3), "std");
        for (double d : values(r.conv(), "bias")) {
            assertTrue(Math.abs(d) <= bound * (1 + 1e-6), "bias " + d + " bound " + bound);
        }
    }

    @Test
    void badOptionsAndHintLayersGiveOneLineNamingTheKey() {
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("hint_layer", -1),
                        Map.of("hint_layer", 1.5),
                        Map.of("beta", -100.0),
                        Map.of("alpha", -1.0))) {
            String key = bad.keySet().iterator().next();
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> fitnet(bad));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        try (NDManager m = NDManager.newBaseManager()) {
            DistillSetup setup = CASES.get(0).setup(DataType.FLOAT32);
            // feats[4] is the pooled vector of a 3-stage network
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> fitnet(Map.of("hint_layer", 4)).initialize(m, setup));
            assertTrue(
                    e.getMessage().startsWith("distill.options.hint_layer: got '4', allowed: 0..3"),
                    e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
            // a student map of height 3 cannot be regressed onto a teacher map of height 7
            DistillSetup small =
                    ZooFixture.setup(
                            ZooFixture.outputShapes(4, new int[] {2, 7, 7}, new int[] {2, 7, 7}),
                            ZooFixture.outputShapes(4, new int[] {2, 3, 3}, new int[] {2, 3, 3}),
                            DataType.FLOAT32);
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> fitnet(Map.of("hint_layer", 1)).initialize(m, small));
            assertTrue(
                    e.getMessage()
                            .startsWith(
                                    "distill.options.hint_layer: got '1' (student 2x3x3,"
                                            + " teacher 2x7x7): ConvReg cannot map"),
                    e.getMessage());
            // no shapes in the setup
            DistillSetup none = ZooFixture.setup(List.of(), List.of(), DataType.FLOAT32);
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> fitnet(Map.of()).initialize(m, none));
            assertTrue(e.getMessage().contains("optOutputShapes"), e.getMessage());
        }
    }

    @Test
    void zooPairShapes() {
        // (teacher, student) [stem, stages] (C, H, W) of crcd-models' networks, the hint layer and
        // the convolution it needs
        Object[][] pairs = {
            { // wrn_40_2 -> wrn_16_2 (32x32): 64x16x16 -> 64x16x16, 1x1
                new int[][] {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}},
                new int[][] {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}},
                2,
                ConvReg.Kind.VALID
            },
            { // resnet32x4 -> ShuffleV1 (32x32): 480x8x8 -> 128x16x16, transposed
                new int[][] {{32, 32, 32}, {64, 32, 32}, {128, 16, 16}, {256, 8, 8}},
                new int[][] {{24, 32, 32}, {240, 16, 16}, {480, 8, 8}, {960, 4, 4}},
                2,
                ConvReg.Kind.TRANSPOSED
            },
            { // vgg13 -> MobileNetV2 (32x32), feats[4]: 160x2x2 -> 512x4x4, transposed
                new int[][] {{64, 32, 32}, {128, 16, 16}, {256, 8, 8}, {512, 4, 4}, {512, 4, 4}},
                new int[][] {{16, 16, 16}, {12, 16, 16}, {16, 8, 8}, {48, 4, 4}, {160, 2, 2}},
                4,
                ConvReg.Kind.TRANSPOSED
            },
            { // vgg13 -> resnet8x4 (28x28): 128x14x14 -> 256x7x7, strided
                new int[][] {{64, 28, 28}, {128, 14, 14}, {256, 7, 7}, {512, 3, 3}, {512, 3, 3}},
                new int[][] {{32, 28, 28}, {64, 28, 28}, {128, 14, 14}, {256, 7, 7}},
                2,
                ConvReg.Kind.STRIDED
            },
            { // same, feats[3]: 256x7x7 -> 512x3x3, valid 5x5
                new int[][] {{64, 28, 28}, {128, 14, 14}, {256, 7, 7}, {512, 3, 3}, {512, 3, 3}},
                new int[][] {{32, 28, 28}, {64, 28, 28}, {128, 14, 14}, {256, 7, 7}},
                3,
                ConvReg.Kind.VALID
            }
        };
        Engine.getInstance().setRandomSeed(45);
        Random r = new Random(46);
        try (NDManager m = NDManager.newBaseManager()) {
            for (Object[] p : pairs) {
                int[][] t = (int[][]) p[0];
                int[][] s = (int[][]) p[1];
                int layer = (Integer) p[2];
                DistillSetup setup =
                        ZooFixture.setup(
                                ZooFixture.outputShapes(8, t),
                                ZooFixture.outputShapes(8, s),
                                DataType.FLOAT32);
                FitNetDistiller d = (FitNetDistiller) fitnet(Map.of("hint_layer", layer));
                d.initialize(m, setup);
                ConvReg reg = (ConvReg) d.auxiliaryBlock();
                assertEquals(p[3], reg.kind(), "pair " + layer);
                List<Map4> tm = ZooFixture.randomMaps(r, B, t);
                List<Map4> sm = ZooFixture.randomMaps(r, B, s);
                NDArray y =
                        reg.forward(
                                        new ParameterStore(m, false),
                                        new NDList(sm.get(layer).array(m, DataType.FLOAT32)),
                                        true)
                                .singletonOrThrow();
                assertEquals(tm.get(layer).shape(), y.getShape());
                DistillBatch batch =
                        ZooFixture.batch(
                                m,
                                output(m, tm, DataType.FLOAT32, 2),
                                output(m, sm, DataType.FLOAT32, 1));
                NDArray v = d.losses(batch).asMap().get("fitnet");
                assertEquals(0, v.getShape().dimension());
                assertTrue(Float.isFinite(v.getFloat()) && v.getFloat() > 0);
                long e64 = d.estimateStepBytes(setup, 64);
                long map = 1;
                for (int k : t[layer]) {
                    map *= k;
                }
                assertEquals(8L * 64 * map * 4, e64);
            }
        }
    }
}
