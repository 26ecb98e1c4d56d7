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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link SpDistiller} against a plain-Java similarity-preserving loss, finite differences. */
class SpDistillerTest {

    // only the last stage counts: the student's 2x3x3, the teacher's 4x2x2 (other sizes on
    // purpose); the first stages are decoys
    private static final int[][] STUDENT = {{3, 6, 6}, {2, 3, 3}};
    private static final int[][] TEACHER = {{2, 4, 4}, {5, 4, 4}, {4, 2, 2}};
    private static final int B = 4;

    static Distiller sp(Map<String, Object> options) {
        return Distillers.create("sp", new DistillerOptions("distill.options", options));
    }

    /** RepDistiller's Similarity in plain Java on the last maps. */
    static double reference(Map4 s, Map4 t) {
        double[][] gs = gram(s);
        double[][] gt = gram(t);
        int b = s.b();
        double sum = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                double d = gt[i][j] - gs[i][j];
                sum += d * d;
            }
        }
        return sum / (b * b);
    }

    private static double[][] gram(Map4 f) {
        int b = f.b();
        double[] flat = f.flat();
        int n = flat.length / b;
        double[][] g = new double[b][b];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                double dot = 0;
                for (int k = 0; k < n; k++) {
                    dot += flat[i * n + k] * flat[j * n + k];
                }
                g[i][j] = dot;
            }
            ZooFixture.normalize(g[i]);
        }
        return g;
    }

    private static LossTerms losses(NDManager m, Distiller d, List<NDArray> s, List<NDArray> t) {
        return d.losses(
                ZooFixture.batch(
                        m, ZooFixture.output(m, null, t, 2), ZooFixture.output(m, null, s, 1)));
    }

    @Test
    void valueMatchesPlainJavaOnTheLastStage() {
        Random r = new Random(21);
        List<Map4> s = ZooFixture.randomMaps(r, B, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, B, TEACHER);
        double expected = 3000 * reference(s.get(1), t.get(2));
        assertTrue(expected > 1, "degenerate fixture: " + expected);
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : List.of(DataType.FLOAT64, DataType.FLOAT32)) {
                LossTerms terms =
                        losses(
                                m,
                                sp(Map.of()),
                                ZooFixture.arrays(m, s, type),
                                ZooFixture.arrays(m, t, type));
                assertEquals(List.of("sp"), List.copyOf(terms.asMap().keySet()));
                double tol = type == DataType.FLOAT64 ? 1e-12 : 1e-5;
                assertEquals(expected, ZooFixture.value(terms, "sp"), tol * expected, type.name());
            }
            // beta scales; alpha adds kd
            LossTerms terms =
                    losses(
                            m,
                            sp(Map.of("beta", 2.0, "alpha", 1.0)),
                            ZooFixture.arrays(m, s, DataType.FLOAT64),
                            ZooFixture.arrays(m, t, DataType.FLOAT64));
            assertEquals(List.of("sp", "kd"), List.copyOf(terms.asMap().keySet()));
            assertEquals(expected / 1500, ZooFixture.value(terms, "sp"), 1e-12 * expected);
        }
    }

    @Test
    void studentGradientMatchesFiniteDifferences() {
        Random r = new Random(22);
        List<Map4> s = ZooFixture.randomMaps(r, B, STUDENT);
        List<Map4> t = ZooFixture.randomMaps(r, B, TEACHER);
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = sp(Map.of());
            List<NDArray> ta = ZooFixture.arrays(m, t, DataType.FLOAT64);
            NDArray first = s.get(0).array(m, DataType.FLOAT64);
            ZooFixture.checkGradient(
                    m,
                    List.of(s.get(1).array(m, DataType.FLOAT64)),
                    in -> {
                        List<NDArray> stages = new ArrayList<>(List.of(first, in.get(0)));
                        return losses(m, d, stages, ta).total();
                    },
                    1e-5);
        }
    }

    @Test
    void badOptionsNameTheKey() {
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("beta", -3.0), Map.of("beta", "big"), Map.of("alpha", -1.0))) {
            String key = bad.keySet().iterator().next();
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> sp(bad));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> sp(Map.of("p", 2.0)));
        assertTrue(e.getMessage().contains("unknown key(s) [p]"), e.getMessage());
    }

    @Test
    void zooPairShapesAndEstimate() {
        // (teacher, student) last stages: resnet32x4 -> resnet8x4, vgg13 -> MobileNetV2,
        // wrn_40_2 -> ShuffleV1
        int[][][] pairs = {
            {{256, 8, 8}, {256, 8, 8}}, {{512, 4, 4}, {160, 2, 2}}, {{128, 8, 8}, {960, 4, 4}}
        };
        Random r = new Random(23);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[][] pair : pairs) {
                Map4 t = Map4.random(r, 3, pair[0][0], pair[0][1], pair[0][2]);
                Map4 s = Map4.random(r, 3, pair[1][0], pair[1][1], pair[1][2]);
                NDArray v =
                        losses(
                                        m,
                                        sp(Map.of()),
                                        List.of(s.array(m, DataType.FLOAT32)),
                                        List.of(t.array(m, DataType.FLOAT32)))
                                .asMap()
                                .get("sp");
                assertEquals(0, v.getShape().dimension());
                double expected = 3000 * reference(s, t);
                assertEquals(expected, v.getFloat(), 1e-4 * expected);
            }
        }
        DistillSetup setup = ZooFixture.setup(List.of(), List.of(), DataType.FLOAT32);
        // two (B, B) Grams and their chain: 8 B^2 floats
        assertEquals(8L * 64 * 64 * 4, sp(Map.of()).estimateStepBytes(setup, 64));
    }
}
