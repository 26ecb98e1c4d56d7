package ai.crcd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/**
 * {@link Layers#batchNorm} (libtorch's batch norm called directly) is DJL's {@code
 * BatchNorm.forward} bit for bit: outputs, running statistics after training-mode steps, and the
 * gradients of the input, gamma and beta.
 */
class LayersBatchNormTest {

    @Test
    void sameAsTheBlocksOwnForward() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape xs = new Shape(4, 8, 6, 6);
            BatchNorm viaBlock = Layers.bn();
            BatchNorm direct = Layers.bn();
            viaBlock.initialize(m, DataType.FLOAT32, xs);
            direct.initialize(m, DataType.FLOAT32, xs);
            // distinct gamma and beta, the same in both
            for (String p : new String[] {"gamma", "beta"}) {
                NDArray v = m.randomUniform(0.5f, 1.5f, new Shape(8));
                viaBlock.getParameters().get(p).getArray().set(v.toFloatArray());
                direct.getParameters().get(p).getArray().set(v.toFloatArray());
            }
            for (int step = 0; step < 3; step++) {
                for (boolean training : new boolean[] {true, false}) {
                    float[] x = m.randomNormal(2f, 3f, xs, DataType.FLOAT32).toFloatArray();
                    float[][] a = run(m, viaBlock, x, xs, training, false);
                    float[][] b = run(m, direct, x, xs, training, true);
                    for (int i = 0; i < a.length; i++) {
                        assertArrayEquals(a[i], b[i], "step " + step + " training " + training);
                    }
                    for (String p : new String[] {"runningMean", "runningVar"}) {
                        assertArrayEquals(
                                viaBlock.getParameters().get(p).getArray().toFloatArray(),
                                direct.getParameters().get(p).getArray().toFloatArray(),
                                p);
                    }
                }
            }
        }
    }

    /** [y, dx, dgamma, dbeta] of sum(y * sin(0.37 k)). */
    private static float[][] run(
            NDManager m, BatchNorm bn, float[] xv, Shape xs, boolean training, boolean direct) {
        try (NDManager sub = m.newSubManager()) {
            ParameterStore ps = new ParameterStore(sub, false);
            NDArray x = sub.create(xv, xs);
            x.setRequiresGradient(true);
            NDArray y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                y =
                        direct
                                ? Layers.batchNorm(bn, ps, x, training)
                                : bn.forward(ps, new NDList(x), training).head();
                NDArray v = sub.arange(0f, (float) xs.size()).reshape(xs).mul(0.37).sin();
                gc.backward(y.mul(v).sum());
            }
            float[][] out = {
                y.toFloatArray(),
                x.getGradient().toFloatArray(),
                bn.getParameters().get("gamma").getArray().getGradient().toFloatArray(),
                bn.getParameters().get("beta").getArray().getGradient().toFloatArray()
            };
            for (String p : new String[] {"gamma", "beta"}) {
                try (NDArray g = bn.getParameters().get(p).getArray().getGradient()) {
                    g.subi(g); // gradients accumulate: clear them for the next call
                }
            }
            return out;
        }
    }
}
