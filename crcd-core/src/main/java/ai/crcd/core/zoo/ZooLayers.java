package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import java.util.List;

/**
 * Building blocks shared by AB, FSP and FT: convolutions initialised as PyTorch's defaults ({@link
 * FanInUniformInitializer}), and reading the stage (or pre-activation stage) shapes of a {@link
 * ai.crcd.core.FeatureOutput} layout from a {@code DistillSetup}.
 */
final class ZooLayers {

    private ZooLayers() {}

    /**
     * A convolution with bias, weight and bias uniform in +-1/sqrt(in * kh * kw) (PyTorch's {@code
     * nn.Conv2d} default).
     *
     * @param in input channels
     * @param out output channels
     * @param kh kernel height
     * @param kw kernel width
     * @param stride the stride
     * @param pad the padding
     * @return the block
     */
    static Conv2d conv(long in, long out, long kh, long kw, long stride, long pad) {
        Conv2d c =
                Conv2d.builder()
                        .setKernelShape(new Shape(kh, kw))
                        .optStride(new Shape(stride, stride))
                        .optPadding(new Shape(pad, pad))
                        .setFilters((int) out)
                        .build();
        FanInUniformInitializer init = new FanInUniformInitializer(in * kh * kw);
        c.setInitializer(init, Parameter.Type.WEIGHT);
        c.setInitializer(init, Parameter.Type.BIAS);
        return c;
    }

    /**
     * Returns the stage shapes (or pre-activation stage shapes) of a {@code FeatureOutput} layout
     * [logits, pooled, stem, stage1..K, preact1..K?], batch 1.
     *
     * @param layout the shapes from {@code DistillSetup}
     * @param preAct whether the layout holds the pre-activation outputs (then they are returned)
     * @param who "teacher" or "student", for the message
     * @return the K shapes, each (1, Ck, Hk, Wk)
     */
    static List<Shape> stageShapes(List<Shape> layout, boolean preAct, String who) {
        int n = layout.size() - 3;
        if (n < 1 || (preAct && n % 2 != 0)) {
            throw new IllegalArgumentException(
                    "the "
                            + who
                            + " output "
                            + layout
                            + " is not [logits, pooled, stem, stage1..K"
                            + (preAct ? ", preact1..K]" : "]"));
        }
        int k = preAct ? n / 2 : n;
        return layout.subList(preAct ? 3 + k : 3, 3 + (preAct ? 2 * k : k));
    }

    /**
     * Returns the stem shape of a layout [logits, pooled, stem, ...].
     *
     * @param layout the shapes
     * @return (1, C0, H0, W0)
     */
    static Shape stemShape(List<Shape> layout) {
        return layout.get(2);
    }
}
