package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.Scalars;
import ai.crcd.core.training.DistillStep;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The loop's weighted cross-entropy against the closed form, with garbage collection and fresh
 * direct buffers between forward and backward. DJL's {@code x.mul(Number)} would fail this: its
 * scalar lives in a Java direct buffer that is freed while autograd still holds it.
 */
class CrossEntropyTest {

    @Test
    void valueAndGradientMatchClosedFormUnderGcPressure() {
        float[] z = {1.0f, -0.5f, 2.0f, 0.3f, 0.3f, -1.2f};
        long[] y = {2, 0};
        double w = 0.7;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 5; trial++) {
                NDArray logits = m.create(z, new Shape(2, 3)).duplicate();
                logits.setRequiresGradient(true);
                NDArray labels = m.create(y);
                float loss;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = DistillStep.crossEntropy(logits, labels).mul(Scalars.of(logits, w));
                    pressure();
                    loss = l.getFloat();
                    gc.backward(l);
                }
                // closed form: loss = -w/B sum_n log softmax(z_n)[y_n]; grad = w/B (p - onehot)
                double expected = 0;
                float[] grad = new float[6];
                for (int n = 0; n < 2; n++) {
                    double s = 0;
                    for (int c = 0; c < 3; c++) {
                        s += Math.exp(z[n * 3 + c]);
                    }
                    expected -= w / 2 * (z[n * 3 + (int) y[n]] - Math.log(s));
                    for (int c = 0; c < 3; c++) {
                        double p = Math.exp(z[n * 3 + c]) / s;
                        grad[n * 3 + c] = (float) (w / 2 * (p - (c == y[n] ? 1 : 0)));
                    }
                }
                assertEquals(expected, loss, 1e-6);
                assertArrayEquals(grad, logits.getGradient().toFloatArray(), 1e-6f);
            }
        }
    }

    /** Frees unreachable direct buffers and reuses their memory with other values. */
    private static void pressure() {
        List<ByteBuffer> junk = new ArrayList<>();
        System.gc();
        for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4);
            b.putFloat(0, 1e30f);
            junk.add(b);
        }
    }
}
