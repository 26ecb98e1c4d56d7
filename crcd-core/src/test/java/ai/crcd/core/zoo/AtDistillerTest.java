package ai.crcd.core.zoo;

import static ai.crcd.core.zoo.ZooFixture.Map4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link AtDistiller} against a plain-Java attention transfer, finite differences, options. */
class AtDistillerTest {

    // student stages: 4x4 (teacher 2x2: student pooled), 5x5 (teacher 3x3: non-divisible
    // adaptive pooling), 3x3 (teacher 6x6: teacher pooled); the teacher's 4th stage is not paired
    private static final int[][] STUDENT = {{3, 4, 4}, {2, 5, 5}, {2, 3, 3}};
    private static final int[][] TEACHER = {{4, 2, 2}, {3, 3, 3}, {5, 6, 6}, {2, 2, 2}};

    static Distiller at(Map<String, Object> options) {
        return Distillers.create("at", new DistillerOptions("distill.options", options));
    }

    /** RepDistiller's AT in plain Java: sum over zipped stages of mean((at_s - at_t)^2). */
    static double reference(List<Map4> s, List<Map4> t, double p) {
        double sum = 0;
        for (int i = 0; i < Math.min(s.size(), t.size()); i++) {
            Map4[] pair = ZooFixture.matchHeights(s.get(i), t.get(i));
            double[][] as = attention(pair[0], p);
            double[][] at = attention(pair[1], p);
            double acc = 0;
            int n = 0;
            for (int b = 0; b < as.length; b++) {
                for (int j = 0; j < as[b].length; j++) {
                    acc += (as[b][j] - at[b][j]) * (as[b][j] - at[b][j]);
                    n++;
                }
            }
            sum += acc / n;
        }
        return sum;
    }

    private static double[][] attention(Map4 f, double p) {
        double[][] out = new double[f.b()][f.h() * f.w()];
        for (int b = 0; b < f.b(); b++) {
            for (int y = 0; y < f.h(); y++) {
                for (int x = 0; x < f.w(); x++) {
                    double m = 0;
                    for (int c = 0; c < f.c(); c++) {
                        m += Math.pow(f.v[b][c][y][x], p);
                    }
                    out[b][y * f.w() + x] = m / f.c();
                }
            }
            ZooFixture.normalize(out[b]);
        }
        return out;
    }

    private static LossTerms losses(NDManager m, Distiller d, List<NDArray> s, List<NDArray> t) {
        FeatureOutput so = ZooFixture.output(m, null, s, 1);
        FeatureOutput to = ZooFixture.output(m, null, t, 2);
        return d.losses(ZooFixture.batch(m, to, so));
    }

    @Test
    void valueMatchesPlainJavaForPooledAndEqualSizes() {
        Random r = new Random(11);
        List<Map4> s = ZooFixture.randomMaps(r, 2, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, 2, TEACHER);
        try (NDManager m = NDManager.newBaseManager()) {
            for (double p : new double[] {2, 3}) {
                Distiller d = at(Map.of("p", p, "beta", 7.0));
                double expected = 7.0 * reference(s, t, p);
                assertTrue(expected > 1e-3, "a degenerate fixture proves nothing: " + expected);
                double got64 =
                        ZooFixture.value(
                                losses(
                                        m,
                                        d,
                                        ZooFixture.arrays(m, s, DataType.FLOAT64),
                                        ZooFixture.arrays(m, t, DataType.FLOAT64)),
                                "at");
                assertEquals(expected, got64, 1e-12 * expected, "p=" + p + " float64");
                double got32 =
                        ZooFixture.value(
                                losses(
                                        m,
                                        d,
                                        ZooFixture.arrays(m, s, DataType.FLOAT32),
                                        ZooFixture.arrays(m, t, DataType.FLOAT32)),
                                "at");
                assertEquals(expected, got32, 1e-5 * expected, "p=" + p + " float32");
            }
            // equal maps give 0
            List<NDArray> same = ZooFixture.arrays(m, s, DataType.FLOAT64);
            assertEquals(0, ZooFixture.value(losses(m, at(Map.of()), same, same), "at"), 0);
        }
    }

    @Test
    void defaultsAreRepDistillersAndKdIsAddedWithAlpha() {
        Random r = new Random(12);
        List<Map4> s = ZooFixture.randomMaps(r, 2, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, 2, TEACHER);
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> sa = ZooFixture.arrays(m, s, DataType.FLOAT64);
            List<NDArray> ta = ZooFixture.arrays(m, t, DataType.FLOAT64);
            LossTerms alone = losses(m, at(Map.of()), sa, ta);
            assertEquals(List.of("at"), List.copyOf(alone.asMap().keySet()));
            double expected = 1000 * reference(s, t, 2);
            assertEquals(expected, ZooFixture.value(alone, "at"), 1e-12 * expected);
            LossTerms withKd = losses(m, at(Map.of("alpha", 0.9, "kd_temperature", 2.0)), sa, ta);
            assertEquals(List.of("at", "kd"), List.copyOf(withKd.asMap().keySet()));
            assertTrue(ZooFixture.value(withKd, "kd") > 0);
        }
    }

    @Test
    void studentGradientMatchesFiniteDifferences() {
        Random r = new Random(13);
        List<Map4> s = ZooFixture.randomMaps(r, 2, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, 2, TEACHER);
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> ta = ZooFixture.arrays(m, t, DataType.FLOAT64);
            for (double p : new double[] {2, 3}) {
                Distiller d = at(Map.of("p", p));
                ZooFixture.checkGradient(
                        m,
                        ZooFixture.arrays(m, s, DataType.FLOAT64),
                        in -> losses(m, d, in, ta).total(),
                        1e-5);
            }
        }
    }

    @Test
    void badOptionsNameTheKey() {
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("beta", -1.0),
                        Map.of("p", 0.0),
                        Map.of("alpha", -0.5),
                        Map.of("kd_temperature", 0.0))) {
            String key = bad.keySet().iterator().next();
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> at(bad));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> at(Map.of("betta", 1.0)));
        assertTrue(e.getMessage().contains("betta") && e.getMessage().contains("beta"));
        assertTrue(Distillers.registry().containsKey("at"));
    }

    @Test
    void zooPairShapes() {
        // (teacher, student) stage shapes (C, H, W) of crcd-models' networks at 32x32
        int[][][][] pairs = {
            { // wrn_40_2 -> wrn_16_2: equal shapes
                {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}},
                {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}}
            },
            { // resnet32x4 -> ShuffleV1: other channels, teacher maps twice as tall
                {{32, 32, 32}, {64, 32, 32}, {128, 16, 16}, {256, 8, 8}},
                {{24, 32, 32}, {240, 16, 16}, {480, 8, 8}, {960, 4, 4}}
            },
            { // vgg13 -> MobileNetV2: four stages
                {{64, 32, 32}, {128, 16, 16}, {256, 8, 8}, {512, 4, 4}, {512, 4, 4}},
                {{16, 16, 16}, {12, 16, 16}, {16, 8, 8}, {48, 4, 4}, {160, 2, 2}}
            }
        };
        Random r = new Random(14);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[][][] pair : pairs) {
                DistillSetup setup =
                        ZooFixture.setup(
                                ZooFixture.outputShapes(8, pair[0]),
                                ZooFixture.outputShapes(8, pair[1]),
                                DataType.FLOAT32);
                Distiller d = at(Map.of());
                d.initialize(m, setup);
                int[][] ts = java.util.Arrays.copyOfRange(pair[0], 1, pair[0].length);
                int[][] ss = java.util.Arrays.copyOfRange(pair[1], 1, pair[1].length);
                List<Map4> s = ZooFixture.randomMaps(r, 2, ss);
                List<Map4> t = ZooFixture.randomMaps(r, 2, ts);
                NDArray v =
                        losses(
                                        m,
                                        d,
                                        ZooFixture.arrays(m, s, DataType.FLOAT32),
                                        ZooFixture.arrays(m, t, DataType.FLOAT32))
                                .asMap()
                                .get("at");
                assertEquals(0, v.getShape().dimension());
                double expected = 1000 * reference(s, t, 2);
                assertEquals(expected, v.getFloat(), 1e-4 * expected);
                long e64 = d.estimateStepBytes(setup, 64);
                assertTrue(e64 > 0 && d.estimateStepBytes(setup, 128) == 2 * e64);
            }
            // equal heights, different widths cannot be paired: one line at initialize
            Distiller d = at(Map.of());
            DistillSetup bad =
                    ZooFixture.setup(
                            ZooFixture.outputShapes(8, new int[] {4, 8, 8}, new int[] {4, 8, 8}),
                            ZooFixture.outputShapes(8, new int[] {4, 8, 8}, new int[] {4, 8, 6}),
                            DataType.FLOAT32);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> d.initialize(m, bad));
            assertTrue(e.getMessage().startsWith("at: stage 1"), e.getMessage());
        }
    }
}
