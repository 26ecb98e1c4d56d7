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
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FSP against RepDistiller's {@code FSP.compute_fsp}/{@code compute_loss} recomputed here with
 * loops in doubles (pooling of the larger map included), its gradient against central finite
 * differences, the init stage it asks for, and the option and shape checks.
 */
class FspTest {

    private static final int B = 2;
    // stem 2x4x4, stage1 3x4x4, stage2 2x2x2: pairs (stem, stage1) equal size, (stage1, stage2)
    // pooled 4x4 -> 2x2
    private static final Shape[] SHAPES = {
        new Shape(B, 2, 4, 4), new Shape(B, 3, 4, 4), new Shape(B, 2, 2, 2)
    };

    /** The FSP loss of two lists of (B, C, H, W) maps given flat, in doubles. */
    static double reference(double[][] s, double[][] t) {
        double total = 0;
        for (int i = 0; i + 1 < SHAPES.length; i++) {
            double[][][] gs = fsp(s[i], SHAPES[i], s[i + 1], SHAPES[i + 1]);
            double[][][] gt = fsp(t[i], SHAPES[i], t[i + 1], SHAPES[i + 1]);
            double sum = 0;
            int n = 0;
            for (int b = 0; b < B; b++) {
                for (int c = 0; c < gs[b].length; c++) {
                    for (int d = 0; d < gs[b][c].length; d++) {
                        double e = gs[b][c][d] - gt[b][c][d];
                        sum += e * e;
                        n++;
                    }
                }
            }
            total += sum / n;
        }
        return total;
    }

    /** G[b][ct][cb] = mean over positions of top * bot, the larger map average-pooled. */
    private static double[][][] fsp(double[] bot, Shape bs, double[] top, Shape ts) {
        int h = (int) Math.min(bs.get(2), ts.get(2));
        double[][][][] pb = pool(bot, bs, h);
        double[][][][] pt = pool(top, ts, h);
        int cb = (int) bs.get(1);
        int ct = (int) ts.get(1);
        double[][][] g = new double[B][ct][cb];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < ct; i++) {
                for (int j = 0; j < cb; j++) {
                    double acc = 0;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < h; x++) {
                            acc += pt[b][i][y][x] * pb[b][j][y][x];
                        }
                    }
                    g[b][i][j] = acc / (h * h);
                }
            }
        }
        return g;
    }

    private static double[][][][] pool(double[] a, Shape s, int out) {
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int k = h / out;
        double[][][][] p = new double[B][c][out][out];
        for (int b = 0; b < B; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < h; x++) {
                        p[b][ch][y / k][x / k] += a[((b * c + ch) * h + y) * h + x] / (k * k);
                    }
                }
            }
        }
        return p;
    }

    private static double[][] maps(long seed) {
        double[][] v = new double[SHAPES.length][];
        for (int i = 0; i < SHAPES.length; i++) {
            v[i] = ZooFixtures.values(seed + i, ZooFixtures.size(SHAPES[i]));
        }
        return v;
    }

    private static FeatureOutput out(NDManager m, NDArray[] a) {
        return ZooFixtures.output(m, a[0], List.of(a[1], a[2]), List.of());
    }

    private static NDArray[] arrays(NDManager m, double[][] v) {
        NDArray[] a = new NDArray[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = m.create(v[i], SHAPES[i]);
        }
        return a;
    }

    private static Distiller initialised(NDManager m, Map<String, Object> options) {
        Distiller d = ZooFixtures.create("fsp", options);
        List<Shape> layout = ZooFixtures.layout(SHAPES[0], List.of(SHAPES[1], SHAPES[2]), false);
        d.initialize(m, ZooFixtures.setup(layout, layout));
        return d;
    }

    @Test
    void valueMatchesRepDistillerInDoubles() {
        double[][] s = maps(1);
        double[][] t = maps(100);
        double ref = reference(s, t);
        assertTrue(ref > 0.01, "a non-trivial case: " + ref);
        try (NDManager m = NDManager.newBaseManager()) {
            DistillBatch batch = ZooFixtures.batch(m, out(m, arrays(m, t)), out(m, arrays(m, s)));
            assertEquals(ref, FspDistiller.loss(batch).getDouble(), 1e-12);
            Distiller d = initialised(m, Map.of());
            InitStage init = d.initStage().orElseThrow();
            assertEquals(30, init.epochs());
            assertTrue(init.trainsStudentFeatures() && init.studentTraining());
            assertTrue(init.learningRate().isEmpty()); // the run's lr, as RepDistiller
            LossTerms initTerms = init.objective().losses(batch);
            assertEquals(List.of("fsp"), List.copyOf(initTerms.asMap().keySet()));
            assertEquals(ref, initTerms.asMap().get("fsp").getDouble(), 1e-12);
            // main stage: nothing by default (RepDistiller's loss_kd = 0), beta * fsp on request
            assertTrue(d.losses(batch).isEmpty());
            LossTerms main = initialised(m, Map.of("beta", 50.0)).losses(batch);
            assertEquals(50 * ref, main.asMap().get("fsp").getDouble(), 1e-10);
            LossTerms kd = initialised(m, Map.of("alpha", 0.9)).losses(batch);
            assertEquals(List.of("kd"), List.copyOf(kd.asMap().keySet()));
            assertTrue(initialised(m, Map.of("init_epochs", 0)).initStage().isEmpty());
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[][] s = maps(3);
        double[][] t = maps(300);
        double h = 1e-6;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] sa = arrays(m, s);
            for (NDArray a : sa) {
                a.setRequiresGradient(true);
            }
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                gc.backward(
                        FspDistiller.loss(ZooFixtures.batch(m, out(m, arrays(m, t)), out(m, sa))));
            }
            for (int f = 0; f < s.length; f++) {
                double[] grad = sa[f].getGradient().toDoubleArray();
                for (int i = 0; i < s[f].length; i += 3) {
                    double keep = s[f][i];
                    s[f][i] = keep + h;
                    double plus = reference(s, t);
                    s[f][i] = keep - h;
                    double minus = reference(s, t);
                    s[f][i] = keep;
                    assertEquals((plus - minus) / (2 * h), grad[i], 1e-7, "feature " + f + " " + i);
                }
            }
        }
    }

    @Test
    void optionsAndShapesAreChecked() {
        assertTrue(Distillers.registry().containsKey("fsp"));
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("fsp", Map.of("beta", -1.0)));
        assertTrue(e.getMessage().contains("distill.options.beta"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("fsp", Map.of("init_epochs", -1)));
        assertTrue(e.getMessage().contains("distill.options.init_epochs"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("fsp", Map.of("margin", 1.0)));
        assertTrue(e.getMessage().contains("unknown key(s) [margin]"), e.getMessage());
        Distiller d = ZooFixtures.create("fsp", Map.of());
        try (NDManager m = NDManager.newBaseManager()) {
            List<Shape> s = ZooFixtures.layout(SHAPES[0], List.of(SHAPES[1], SHAPES[2]), false);
            List<Shape> t =
                    ZooFixtures.layout(SHAPES[0], List.of(new Shape(B, 5, 4, 4), SHAPES[2]), false);
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> d.initialize(m, ZooFixtures.setup(t, s)));
            assertTrue(
                    e.getMessage().contains("stage1 has 3 channels in the student and 5"),
                    e.getMessage());
        }
    }
}
