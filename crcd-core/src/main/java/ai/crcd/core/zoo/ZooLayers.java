package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;

/**
 * The convolution of FT's paraphraser and translator, initialised as PyTorch's {@code nn.Conv2d}
 * ({@link FanInUniformInitializer}).
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
}
