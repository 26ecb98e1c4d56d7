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
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FT against RepDistiller's {@code FactorTransfer.factor_loss} (p1 = 2, p2 = 1) recomputed here
 * with loops in doubles (the pooling of the larger factor included), its gradient against central
 * finite differences, the paraphraser's reconstruction objective of the init stage, the main
 * stage's terms (no gradient into the paraphraser), the networks' shapes and initial ranges, and
 * option checks.
 */
class FtTest {

    private static final int B = 2;

    /** mean |F(fs) - F(ft)|, F = row-normalised channel mean of squares, fs pooled 4x4 -> 2x2. */
    private static double reference(double[] fs, int cs, int hs, double[] ft, int ct, int ht) {
        double[][] a = factor(fs, cs, hs, ht);
        double[][] b = factor(ft, ct, ht, ht);
        double sum = 0;
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < a[i].length; j++) {
                sum += Math.abs(a[i][j] - b[i][j]);
            }
        }
        return sum / (B * a[0].length);
    }

    private static double[][] factor(double[] f, int c, int h, int out) {
        int k = h / out;
        double[][] pooled = new double[B][c * out * out];
        for (int b = 0; b < B; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < h; x++) {
                        pooled[b][(ch * out + y / k) * out + x / k] +=
                                f[((b * c + ch) * h + y) * h + x] / (k * k);
                    }
                }
            }
        }
        double[][] r = new double[B][out * out];
        for (int b = 0; b < B; b++) {
            double norm = 0;
            for (int p = 0; p < out * out; p++) {
                double s = 0;
                for (int ch = 0; ch < c; ch++) {
                    double v = pooled[b][ch * out * out + p];
                    s += v * v;
                }
                r[b][p] = s / c;
                norm += r[b][p] * r[b][p];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int p = 0; p < out * out; p++) {
                r[b][p] /= norm;
            }
        }
        return r;
    }

    @Test
    void factorLossMatchesRepDistillerInDoubles() {
        double[] fs = ZooFixtures.values(1, B * 3 * 16);
        double[] ft = ZooFixtures.values(2, B * 3 * 4);
        double ref = reference(fs, 3, 4, ft, 3, 2);
        assertTrue(ref > 1e-3);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(fs, new Shape(B, 3, 4, 4));
            NDArray t = m.create(ft, new Shape(B, 3, 2, 2));
            assertEquals(ref, FtDistiller.factorLoss(s, t).getDouble(), 1e-12);
            // either side may be the larger one
            assertEquals(
                    reference(fs, 3, 4, ft, 3, 2), FtDistiller.factorLoss(t, s).getDouble(), 1e-12);
        }
    }

    @Test
    void factorLossGradientMatchesFiniteDifferences() {
        double[] fs = ZooFixtures.values(3, B * 3 * 16);
        double[] ft = ZooFixtures.values(4, B * 3 * 4);
        double h = 1e-6;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(fs, new Shape(B, 3, 4, 4));
            s.setRequiresGradient(true);
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                gc.backward(FtDistiller.factorLoss(s, m.create(ft, new Shape(B, 3, 2, 2))));
            }
            double[] g = s.getGradient().toDoubleArray();
            for (int i = 0; i < fs.length; i += 2) {
                double keep = fs[i];
                fs[i] = keep + h;
                double plus = reference(fs, 3, 4, ft, 3, 2);
                fs[i] = keep - h;
                double minus = reference(fs, 3, 4, ft, 3, 2);
                fs[i] = keep;
                assertEquals((plus - minus) / (2 * h), g[i], 1e-8, "d/dfs[" + i + "]");
            }
        }
    }

    private static Distiller initialised(NDManager m, Map<String, Object> options) {
        Distiller d = ZooFixtures.create("ft", options);
        List<Shape> s =
                ZooFixtures.layout(new Shape(B, 2, 4, 4), List.of(new Shape(B, 3, 4, 4)), false);
        List<Shape> t =
                ZooFixtures.layout(new Shape(B, 2, 4, 4), List.of(new Shape(B, 8, 2, 2)), false);
        d.initialize(m, ZooFixtures.setup(t, s));
        return d;
    }

    @Test
    void stagesTrainTheRightNetworks() {
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = initialised(m, Map.of("alpha", 0.5));
            FtBlock block = (FtBlock) d.auxiliaryBlock();
            assertEquals(4, block.paraphraser().factorChannels()); // floor(8 * 0.5)
            for (Pair<String, Parameter> p : block.paraphraser().getParameters()) {
                // decoder = ConvTranspose2d's init U(+-1/sqrt(out * 9)), encoder weights
                // Conv2d's U(+-1/sqrt(in * 9)); weights stored (out, in, 3, 3)
                Shape w = p.getValue().getArray().getShape();
                boolean dec = p.getKey().contains("dec");
                if (!dec && !p.getKey().endsWith("weight")) {
                    continue;
                }
                double bound = 1 / Math.sqrt(9.0 * (dec ? w.get(0) : w.get(1)));
                for (double v : p.getValue().getArray().toDoubleArray()) {
                    assertTrue(Math.abs(v) <= bound, p.getKey() + " " + v);
                }
            }
            InitStage init = d.initStage().orElseThrow();
            assertEquals(List.of(block.paraphraser()), init.initOnlyBlocks());
            assertTrue(!init.trainsStudentFeatures() && !init.studentTraining());
            assertEquals(0.01, init.learningRate().orElseThrow(), 0);

            double[] fsv = ZooFixtures.values(5, B * 3 * 16);
            double[] ftv = ZooFixtures.values(6, B * 8 * 4);
            NDArray fs = m.create(fsv, new Shape(B, 3, 4, 4));
            fs.setRequiresGradient(true);
            NDArray ft = m.create(ftv, new Shape(B, 8, 2, 2));
            FeatureOutput s =
                    ZooFixtures.output(m, m.zeros(new Shape(B, 2, 4, 4)), List.of(fs), List.of());
            FeatureOutput t =
                    ZooFixtures.output(m, m.zeros(new Shape(B, 2, 4, 4)), List.of(ft), List.of());
            DistillBatch batch = ZooFixtures.batch(m, t, s);
            // init: mean squared reconstruction error of the teacher's last stage
            LossTerms initTerms = init.objective().losses(batch);
            assertEquals(List.of("paraphraser"), List.copyOf(initTerms.asMap().keySet()));
            double[] rec =
                    block.paraphraser()
                            .forward(batch.parameterStore(), new NDList(ft), true)
                            .get(1)
                            .toDoubleArray();
            double mse = 0;
            for (int i = 0; i < rec.length; i++) {
                mse += (rec[i] - ftv[i]) * (rec[i] - ftv[i]) / rec.length;
            }
            assertEquals(mse, initTerms.asMap().get("paraphraser").getDouble(), 1e-12);

            // main: kd + 200 * factor loss of translator(fs) vs paraphraser encoder(ft)
            LossTerms main;
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                main = d.losses(batch);
                gc.backward(main.total());
            }
            assertEquals(List.of("kd", "ft"), List.copyOf(main.asMap().keySet()));
            NDArray factorS =
                    block.translator()
                            .forward(batch.parameterStore(), new NDList(fs), true)
                            .singletonOrThrow();
            NDArray factorT = block.paraphraser().factor(batch.parameterStore(), ft, false);
            assertEquals(
                    200 * FtDistiller.factorLoss(factorS, factorT).getDouble(),
                    main.asMap().get("ft").getDouble(),
                    1e-10);
            for (Parameter p : block.paraphraser().getParameters().values()) {
                assertEquals(
                        0.0,
                        p.getArray()
                                .getGradient()
                                .abs()
                                .sum()
                                .toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
                                .getDouble(),
                        0,
                        "the paraphraser is frozen in the main stage");
            }
            assertTrue(fs.getGradient().abs().sum().getDouble() > 0);
        }
    }

    @Test
    void optionsAreChecked() {
        assertTrue(Distillers.registry().containsKey("ft"));
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ft", Map.of("init_lr", 0.0)));
        assertTrue(e.getMessage().contains("distill.options.init_lr"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ft", Map.of("beta", "x")));
        assertTrue(e.getMessage().contains("distill.options.beta"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ZooFixtures.create("ft", Map.of("kd_temperature", -1.0)));
        assertTrue(e.getMessage().contains("kd_temperature"), e.getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(initialised(m, Map.of("init_epochs", 0)).initStage().isEmpty());
        }
    }
}
