package ai.crcd.core.zoo;

import static ai.crcd.core.zoo.ZooFixture.Map4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.LossTerms;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link NstDistiller} against a plain-Java polynomial-kernel MMD, finite differences. */
class NstDistillerTest {

    // student 4x4 vs teacher 2x2 (student pooled), 5x5 vs 3x3 (non-divisible), 3x3 vs 6x6
    // (teacher pooled); the student's 4th stage is not paired
    private static final int[][] STUDENT = {{3, 4, 4}, {2, 5, 5}, {2, 3, 3}, {3, 2, 2}};
    private static final int[][] TEACHER = {{4, 2, 2}, {3, 3, 3}, {5, 6, 6}};

    static Distiller nst(Map<String, Object> options) {
        return Distillers.create("nst", new DistillerOptions("distill.options", options));
    }

    /** RepDistiller's NSTLoss (full_loss) in plain Java, summed over the zipped stages. */
    static double reference(List<Map4> s, List<Map4> t) {
        double sum = 0;
        for (int i = 0; i < Math.min(s.size(), t.size()); i++) {
            Map4[] pair = ZooFixture.matchHeights(s.get(i), t.get(i));
            double[][][] fs = rows(pair[0]);
            double[][][] ft = rows(pair[1]);
            sum += kernel(ft, ft) + kernel(fs, fs) - 2 * kernel(fs, ft);
        }
        return sum;
    }

    /** (B, C, HW) with unit rows. */
    private static double[][][] rows(Map4 f) {
        double[][][] out = new double[f.b()][f.c()][];
        for (int b = 0; b < f.b(); b++) {
            for (int c = 0; c < f.c(); c++) {
                double[] row = new double[f.h() * f.w()];
                for (int y = 0; y < f.h(); y++) {
                    for (int x = 0; x < f.w(); x++) {
                        row[y * f.w() + x] = f.v[b][c][y][x];
                    }
                }
                out[b][c] = ZooFixture.normalize(row);
            }
        }
        return out;
    }

    /** mean over (b, i, j) of (a_i . b_j)^2. */
    private static double kernel(double[][][] a, double[][][] b) {
        double sum = 0;
        int n = 0;
        for (int k = 0; k < a.length; k++) {
            for (double[] x : a[k]) {
                for (double[] y : b[k]) {
                    double dot = 0;
                    for (int e = 0; e < x.length; e++) {
                        dot += x[e] * y[e];
                    }
                    sum += dot * dot;
                    n++;
                }
            }
        }
        return sum / n;
    }

    private static LossTerms losses(NDManager m, Distiller d, List<NDArray> s, List<NDArray> t) {
        return d.losses(
                ZooFixture.batch(
                        m, ZooFixture.output(m, null, t, 2), ZooFixture.output(m, null, s, 1)));
    }

    @Test
    void valueMatchesPlainJava() {
        Random r = new Random(31);
        List<Map4> s = ZooFixture.randomMaps(r, 2, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, 2, TEACHER);
        double expected = 50 * reference(s, t);
        assertTrue(expected > 1, "degenerate fixture: " + expected);
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : List.of(DataType.FLOAT64, DataType.FLOAT32)) {
                LossTerms terms =
                        losses(
                                m,
                                nst(Map.of()),
                                ZooFixture.arrays(m, s, type),
                                ZooFixture.arrays(m, t, type));
                assertEquals(List.of("nst"), List.copyOf(terms.asMap().keySet()));
                double tol = type == DataType.FLOAT64 ? 1e-12 : 1e-5;
                assertEquals(expected, ZooFixture.value(terms, "nst"), tol * expected, type.name());
            }
            // an MMD: the same maps give 0; beta scales; alpha adds kd
            List<NDArray> same = ZooFixture.arrays(m, t, DataType.FLOAT64);
            assertEquals(0, ZooFixture.value(losses(m, nst(Map.of()), same, same), "nst"), 1e-12);
            LossTerms terms =
                    losses(
                            m,
                            nst(Map.of("beta", 1.0, "alpha", 0.5)),
                            ZooFixture.arrays(m, s, DataType.FLOAT64),
                            ZooFixture.arrays(m, t, DataType.FLOAT64));
            assertEquals(List.of("nst", "kd"), List.copyOf(terms.asMap().keySet()));
            assertEquals(expected / 50, ZooFixture.value(terms, "nst"), 1e-12 * expected);
        }
    }

    @Test
    void studentGradientMatchesFiniteDifferences() {
        Random r = new Random(32);
        List<Map4> s = ZooFixture.randomMaps(r, 2, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, 2, TEACHER);
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = nst(Map.of());
            List<NDArray> ta = ZooFixture.arrays(m, t, DataType.FLOAT64);
            ZooFixture.checkGradient(
                    m,
                    ZooFixture.arrays(m, s.subList(0, 3), DataType.FLOAT64),
                    in -> losses(m, d, in, ta).total(),
                    1e-5);
        }
    }

    @Test
    void badOptionsNameTheKey() {
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("beta", -1.0), Map.of("kd_temperature", -4.0))) {
            String key = bad.keySet().iterator().next();
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> nst(bad));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> nst(Map.of("full_loss", true)));
        assertTrue(e.getMessage().contains("full_loss"), e.getMessage());
    }

    @Test
    void zooPairShapesAndEstimate() {
        // (teacher, student) [stem, stages] (C, H, W): resnet32x4 -> ShuffleV1, wrn_40_2 ->
        // wrn_16_2
        int[][][][] pairs = {
            {
                {{32, 32, 32}, {64, 32, 32}, {128, 16, 16}, {256, 8, 8}},
                {{24, 32, 32}, {240, 16, 16}, {480, 8, 8}, {960, 4, 4}}
            },
            {
                {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}},
                {{16, 32, 32}, {32, 32, 32}, {64, 16, 16}, {128, 8, 8}}
            }
        };
        Random r = new Random(33);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[][][] pair : pairs) {
                DistillSetup setup =
                        ZooFixture.setup(
                                ZooFixture.outputShapes(8, pair[0]),
                                ZooFixture.outputShapes(8, pair[1]),
                                DataType.FLOAT32);
                Distiller d = nst(Map.of());
                d.initialize(m, setup);
                List<Map4> s =
                        ZooFixture.randomMaps(r, 2, Arrays.copyOfRange(pair[1], 1, pair[1].length));
                List<Map4> t =
                        ZooFixture.randomMaps(r, 2, Arrays.copyOfRange(pair[0], 1, pair[0].length));
                NDArray v =
                        losses(
                                        m,
                                        d,
                                        ZooFixture.arrays(m, s, DataType.FLOAT32),
                                        ZooFixture.arrays(m, t, DataType.FLOAT32))
                                .asMap()
                                .get("nst");
                assertEquals(0, v.getShape().dimension());
                double expected = 50 * reference(s, t);
                assertEquals(expected, v.getFloat(), 1e-4 * expected);
                // the kernels alone: B x (Cs^2 + Ct^2 + Cs Ct) per stage, 3 copies, float32
                long kernels = 0;
                for (int i = 1; i < pair[0].length; i++) {
                    long cs = pair[1][i][0];
                    long ct = pair[0][i][0];
                    kernels += 3 * 64 * (cs * cs + ct * ct + cs * ct) * 4;
                }
                long est = d.estimateStepBytes(setup, 64);
                assertTrue(est > kernels && est < 3 * kernels + 200_000_000L, est + " " + kernels);
            }
        }
    }
}
