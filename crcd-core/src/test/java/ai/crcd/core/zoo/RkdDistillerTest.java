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

/** RKD against RepDistiller's {@code RKDLoss} written out in plain doubles. */
class RkdDistillerTest {

    static final int B = 5;
    static final int DS = 3;
    static final int DT = 4;

    /** Counts of smooth-L1 arguments beyond 1 seen by the last plain computation. */
    static int linearBranch;

    static double[][] plainPdist(double[][] e) {
        int n = e.length;
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double si = 0;
                double sj = 0;
                double prod = 0;
                for (int k = 0; k < e[i].length; k++) {
                    si += e[i][k] * e[i][k];
                    sj += e[j][k] * e[j][k];
                    prod += e[i][k] * e[j][k];
                }
                d[i][j] = i == j ? 0 : Math.sqrt(Math.max(si + sj - 2 * prod, 1e-12));
            }
        }
        double sum = 0;
        int count = 0;
        for (double[] row : d) {
            for (double v : row) {
                if (v > 0) {
                    sum += v;
                    count++;
                }
            }
        }
        double mean = sum / count;
        for (double[] row : d) {
            for (int j = 0; j < n; j++) {
                row[j] /= mean;
            }
        }
        return d;
    }

    static double[][][] plainAngles(double[][] e) {
        int n = e.length;
        double[][][] unit = new double[n][n][];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double[] v = new double[e[i].length];
                double norm = 0;
                for (int k = 0; k < v.length; k++) {
                    v[k] = e[j][k] - e[i][k];
                    norm += v[k] * v[k];
                }
                norm = Math.max(Math.sqrt(norm), 1e-12);
                for (int k = 0; k < v.length; k++) {
                    v[k] /= norm;
                }
                unit[i][j] = v;
            }
        }
        double[][][] a = new double[n][n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    double dot = 0;
                    for (int c = 0; c < e[0].length; c++) {
                        dot += unit[i][j][c] * unit[i][k][c];
                    }
                    a[i][j][k] = dot;
                }
            }
        }
        return a;
    }

    static double smoothL1(double x, double y) {
        double a = Math.abs(x - y);
        if (a >= 1) {
            linearBranch++;
        }
        return a < 1 ? 0.5 * a * a : a - 0.5;
    }

    static double plainDistance(double[] fs, double[] ft) {
        double[][] s = plainPdist(ZooFixture.rows(fs, B));
        double[][] t = plainPdist(ZooFixture.rows(ft, B));
        double sum = 0;
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < B; j++) {
                sum += smoothL1(s[i][j], t[i][j]);
            }
        }
        return sum / (B * B);
    }

    static double plainAngle(double[] fs, double[] ft) {
        double[][][] s = plainAngles(ZooFixture.rows(fs, B));
        double[][][] t = plainAngles(ZooFixture.rows(ft, B));
        double sum = 0;
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < B; j++) {
                for (int k = 0; k < B; k++) {
                    sum += smoothL1(s[i][j][k], t[i][j][k]);
                }
            }
        }
        return sum / (B * B * B);
    }

    /** Student features with one far sample, so that smooth-L1 sees both of its branches. */
    static double[] student(Random r) {
        double[] fs = ZooFixture.gaussian(r, B * DS, 1);
        for (int k = 0; k < DS; k++) {
            fs[k] *= 6;
        }
        return fs;
    }

    static DistillBatch batch(NDManager m, NDArray fs, double[] ft) {
        NDArray t = ZooFixture.array(m, ft, new Shape(B, DT), fs.getDataType());
        return ZooFixture.batch(m, fs, t, List.of(), List.of());
    }

    @Test
    void defaultTermsAre25TimesDistanceAnd50TimesAngle() {
        Random r = new Random(11);
        double[] fs = student(r);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        Distiller d = Distillers.create("rkd", DistillerOptions.empty());
        linearBranch = 0;
        double distance = plainDistance(fs, ft);
        assertTrue(linearBranch > 0, "the distances reach the linear branch");
        linearBranch = 0;
        double angle = plainAngle(fs, ft);
        assertTrue(linearBranch > 0, "the angles reach the linear branch");
        try (NDManager m = NDManager.newBaseManager()) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), type);
                LossTerms terms = d.losses(batch(m, s, ft));
                assertEquals(
                        List.of("rkd_distance", "rkd_angle"), List.copyOf(terms.asMap().keySet()));
                double tol = type == DataType.FLOAT64 ? 1e-10 : 1e-5;
                double gotD = ZooFixture.values(terms.asMap().get("rkd_distance"))[0];
                double gotA = ZooFixture.values(terms.asMap().get("rkd_angle"))[0];
                assertEquals(25 * distance, gotD, tol * 25 * distance, "distance " + type);
                assertEquals(50 * angle, gotA, tol * 50 * angle, "angle " + type);
            }
        }
    }

    @Test
    void studentGradientMatchesFiniteDifferences() {
        Random r = new Random(12);
        double[] fs = student(r);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        Distiller d =
                RkdDistiller.builder().optBeta(2).optDistanceWeight(3).optAngleWeight(5).build();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), DataType.FLOAT64);
            s.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(d.losses(batch(m, s, ft)).total());
            }
            double[] grad = ZooFixture.values(s.getGradient());
            ZooFixture.assertGradient(
                    "d rkd / d fs",
                    fs,
                    grad,
                    x -> 2 * (3 * plainDistance(x, ft) + 5 * plainAngle(x, ft)),
                    1e-6);
        }
    }

    @Test
    void aZeroWeightLeavesItsTermOut() {
        Distiller d =
                Distillers.create(
                        "rkd",
                        new DistillerOptions(
                                "distill.options", Map.of("angle_weight", 0, "beta", 2)));
        Random r = new Random(13);
        double[] fs = student(r);
        double[] ft = ZooFixture.gaussian(r, B * DT, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = ZooFixture.array(m, fs, new Shape(B, DS), DataType.FLOAT64);
            LossTerms terms = d.losses(batch(m, s, ft));
            assertEquals(List.of("rkd_distance"), List.copyOf(terms.asMap().keySet()));
            assertEquals(2 * 25 * plainDistance(fs, ft), ZooFixture.values(terms.total())[0], 1e-9);
        }
    }

    @Test
    void stepMemoryEstimateGrowsWithTheCubeOfTheBatch() {
        DistillSetup setup =
                DistillSetup.builder().setFeatureDims(256, 64).setNumClasses(100).build();
        Distiller d = RkdDistiller.builder().build();
        long small = d.estimateStepBytes(setup, 256);
        long large = d.estimateStepBytes(setup, 512);
        assertTrue(small >= 8L * 256 * 256 * 256 * 4, "at least 8 B^3 floats: " + small);
        assertTrue(large > 6 * small, small + " -> " + large);
        long noAngle =
                RkdDistiller.builder().optAngleWeight(0).build().estimateStepBytes(setup, 512);
        assertTrue(noAngle < large / 10, "without the angle term: " + noAngle);
    }

    @Test
    void badOptionsNameTheKey() {
        for (String key : new String[] {"beta", "distance_weight", "angle_weight"}) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Distillers.create(
                                            "rkd",
                                            new DistillerOptions(
                                                    "distill.options", Map.of(key, -1))));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "rkd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("w_d", 25))));
        assertTrue(e.getMessage().contains("w_d"), e.getMessage());
        assertTrue(e.getMessage().contains("distance_weight"), e.getMessage());
    }
}
