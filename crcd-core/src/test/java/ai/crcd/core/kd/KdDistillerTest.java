package ai.crcd.core.kd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KdDistillerTest {

    @Test
    void kdMatchesPlainJava() {
        double[][] s = {{1.0, -0.5, 2.0}, {0.3, 0.1, -1.2}};
        double[][] t = {{0.2, 0.9, 1.5}, {-2.0, 0.4, 0.0}};
        double temp = 4.0;
        double alpha = 0.7;
        double exp = 0;
        for (int i = 0; i < 2; i++) {
            double[] ps = softmax(s[i], temp);
            double[] pt = softmax(t[i], temp);
            for (int c = 0; c < 3; c++) {
                exp += pt[c] * Math.log(pt[c] / ps[c]);
            }
        }
        exp = alpha * exp / 2 * temp * temp;
        try (NDManager m = NDManager.newBaseManager()) {
            Distiller kd =
                    Distillers.create(
                            "kd", new DistillerOptions("distill.options", Map.of("alpha", alpha)));
            assertEquals("kd", kd.name());
            DistillBatch batch =
                    DistillBatch.builder()
                            .setTeacher(out(m, t))
                            .setStudent(out(m, s))
                            .setLabels(m.create(new long[] {0, 1}))
                            .setParameterStore(new ParameterStore(m, false))
                            .build();
            NDArray v = kd.losses(batch).asMap().get("kd");
            assertEquals(exp, v.getFloat(), 1e-6);
        }
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "kd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("temprature", 3.0))));
        assertTrue(e.getMessage().contains("temprature"));
    }

    private static FeatureOutput out(NDManager m, double[][] logits) {
        float[] f = new float[6];
        for (int i = 0; i < 6; i++) {
            f[i] = (float) logits[i / 3][i % 3];
        }
        return FeatureOutput.of(
                m.create(f, new Shape(2, 3)), m.zeros(new Shape(2, 4)), null, List.of(), List.of());
    }

    private static double[] softmax(double[] z, double temp) {
        double sum = 0;
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = Math.exp(z[i] / temp);
            sum += out[i];
        }
        for (int i = 0; i < z.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
