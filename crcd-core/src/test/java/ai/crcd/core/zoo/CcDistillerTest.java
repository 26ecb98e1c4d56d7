package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CC against RepDistiller's {@code LinearEmbed} + {@code Correlation} written out in plain doubles,
 * with embedding weights fixed by the test.
 */
class CcDistillerTest {

    static final int B = 4;
    static final int DS = 4;
    static final int DT = 5;
    static final int F = 3;

    static final String[] KEYS = {
        "embed_s_linear_weight",
        "embed_s_linear_bias",
        "embed_t_linear_weight",
        "embed_t_linear_bias"
    };

    /** Student features, teacher features and the four embedding parameters. */
    static final class Values {
        final double[][] v = new double[6][];

        Values(long seed) {
            Random r = new Random(seed);
            v[0] = ZooFixture.gaussian(r, B * DS, 1);
            v[1] = ZooFixture.gaussian(r, B * DT, 1);
            v[2] = ZooFixture.gaussian(r, F * DS, 0.5); // (F, DS) as nn.Linear
            v[3] = ZooFixture.gaussian(r, F, 0.5);
            v[4] = ZooFixture.gaussian(r, F * DT, 0.5);
            v[5] = ZooFixture.gaussian(r, F, 0.5);
        }

        double plain() {
            double[][] es = embed(v[0], DS, v[2], v[3]);
            double[][] et = embed(v[1], DT, v[4], v[5]);
            double sum = 0;
            for (int i = 0; i < B - 1; i++) {
                for (int f = 0; f < F; f++) {
                    sum += Math.abs(es[i][f] - et[i][f]) * Math.abs(es[i + 1][f] - et[i + 1][f]);
                }
            }
            return sum / (B - 1);
        }
    }

    static double[][] embed(double[] x, int d, double[] w, double[] b) {
        double[][] e = new double[B][F];
        for (int i = 0; i < B; i++) {
            for (int f = 0; f < F; f++) {
                double s = b[f];
                for (int j = 0; j < d; j++) {
                    s += w[f * d + j] * x[i * d + j];
                }
                e[i][f] = s;
            }
        }
        return e;
    }

    static DistillSetup setup(DataType type) {
        return DistillSetup.builder()
                .setFeatureDims(DT, DS)
                .setNumClasses(3)
                .optDataType(type)
                .build();
    }

    static void setWeights(Block aux, Values x) {
        for (int k = 0; k < KEYS.length; k++) {
            ZooFixture.setValues(ZooFixture.param(aux, KEYS[k]).getArray(), x.v[k + 2]);
        }
    }

    static DistillBatch batch(NDManager m, NDArray fs, Values x, DataType type) {
        NDArray ft = ZooFixture.array(m, x.v[1], new Shape(B, DT), type);
        return ZooFixture.batch(m, fs, ft, List.of(), List.of());
    }

    @Test
    void valueMatchesPlainLinearEmbeddingsAndCorrelation() {
        Values x = new Values(21);
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            try (NDManager m = NDManager.newBaseManager()) {
                Distiller d =
                        Distillers.create(
                                "cc",
                                new DistillerOptions("distill.options", Map.of("feat_dim", F)));
                d.initialize(m, setup(type));
                setWeights(d.auxiliaryBlock(), x);
                NDArray fs = ZooFixture.array(m, x.v[0], new Shape(B, DS), type);
                LossTerms terms = d.losses(batch(m, fs, x, type));
                assertEquals(List.of("cc"), List.copyOf(terms.asMap().keySet()));
                double expected = 0.02 * x.plain(); // default beta
                double tol = type == DataType.FLOAT64 ? 1e-12 : 1e-5;
                assertEquals(expected, ZooFixture.values(terms.total())[0], tol * expected);
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesForFeaturesAndBothEmbeddings() {
        Values x = new Values(22);
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = CcDistiller.builder().optBeta(0.5).optFeatDim(F).build();
            d.initialize(m, setup(DataType.FLOAT64));
            Block aux = d.auxiliaryBlock();
            setWeights(aux, x);
            NDArray fs = ZooFixture.array(m, x.v[0], new Shape(B, DS), DataType.FLOAT64);
            fs.setRequiresGradient(true);
            NDArray ft = ZooFixture.array(m, x.v[1], new Shape(B, DT), DataType.FLOAT64);
            ft.setRequiresGradient(true);
            DistillBatch batch = ZooFixture.batch(m, fs, ft, List.of(), List.of());
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(d.losses(batch).total());
            }
            ZooFixture.assertGradient(
                    "d cc / d fs",
                    x.v[0],
                    ZooFixture.values(fs.getGradient()),
                    v -> 0.5 * x.plain(),
                    1e-6);
            assertEquals(
                    0, ZooFixture.values(ft.getGradient().abs().max())[0], "no teacher gradient");
            for (int k = 0; k < KEYS.length; k++) {
                double[] grad =
                        ZooFixture.values(ZooFixture.param(aux, KEYS[k]).getArray().getGradient());
                ZooFixture.assertGradient(KEYS[k], x.v[k + 2], grad, v -> 0.5 * x.plain(), 1e-6);
            }
        }
    }

    @Test
    void embeddingsStartAsPyTorchLinear() {
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = Distillers.create("cc", DistillerOptions.empty());
            d.initialize(
                    m, DistillSetup.builder().setFeatureDims(100, 36).setNumClasses(10).build());
            Block aux = d.auxiliaryBlock();
            assertEquals(new Shape(128, 36), ZooFixture.param(aux, KEYS[0]).getArray().getShape());
            assertEquals(new Shape(128, 100), ZooFixture.param(aux, KEYS[2]).getArray().getShape());
            int[] fanIn = {36, 36, 100, 100};
            for (int k = 0; k < KEYS.length; k++) {
                double bound = 1 / Math.sqrt(fanIn[k]);
                double max = 0;
                for (double v : ZooFixture.values(ZooFixture.param(aux, KEYS[k]).getArray())) {
                    assertTrue(Math.abs(v) <= bound + 1e-7, KEYS[k] + ": " + v);
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0.8 * bound, KEYS[k] + " spans +-1/sqrt(fan_in): " + max);
            }
        }
    }

    @Test
    void oneSampleHasNoPairAndGivesZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller d = CcDistiller.builder().optFeatDim(F).build();
            d.initialize(m, setup(DataType.FLOAT32));
            NDArray fs = m.randomNormal(new Shape(1, DS));
            NDArray ft = m.randomNormal(new Shape(1, DT));
            LossTerms terms = d.losses(ZooFixture.batch(m, fs, ft, List.of(), List.of()));
            assertEquals(0f, terms.total().getFloat());
        }
    }

    @Test
    void stepsLeaveNothingInTheLongLivedManager() {
        Values x = new Values(23);
        try (NDManager base = NDManager.newBaseManager()) {
            Distiller d = CcDistiller.builder().optFeatDim(F).optKdTerm(new KdTerm(1, 4)).build();
            d.initialize(base, setup(DataType.FLOAT32));
            try (NDManager m = base.newSubManager()) {
                base.cap(); // any array attached to base from now on throws
                for (int i = 0; i < 2; i++) {
                    NDArray fs = ZooFixture.array(m, x.v[0], new Shape(B, DS), DataType.FLOAT32);
                    fs.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(d.losses(batch(m, fs, x, DataType.FLOAT32)).total());
                    }
                }
            }
        }
    }

    @Test
    void badOptionsNameTheKey() {
        for (Map<String, Object> bad :
                List.<Map<String, Object>>of(
                        Map.of("beta", -0.1),
                        Map.of("feat_dim", 0),
                        Map.of("alpha", -1),
                        Map.of("kd_temperature", 0))) {
            String key = bad.keySet().iterator().next();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    Distillers.create(
                                            "cc", new DistillerOptions("distill.options", bad)));
            assertTrue(e.getMessage().contains("distill.options." + key), e.getMessage());
        }
        assertNull(
                assertThrows(IllegalStateException.class, () -> unused().losses(null)).getCause());
    }

    private static Distiller unused() {
        return CcDistiller.builder().build();
    }
}
