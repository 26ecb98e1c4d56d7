package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * PyTorch's {@code nn.ConvTranspose2d(in, out, kernel_size=4, stride=2, padding=1)}, the
 * up-sampling convolution of {@link ConvReg}: (B, in, H, W) to (B, out, 2H, 2W).
 *
 * <p>DJL's {@code Conv2dTranspose} cannot be used: the PyTorch engine of DJL 0.36.0 does not
 * implement {@code deconvolution} ("Not implemented"). This block computes the same function as a
 * stride-1 convolution of the zero-interleaved input (x at even positions of a 2H x 2W map, padded
 * by {@code k - 1 - p = 2}) with the spatially flipped, in/out-swapped kernel, keeping the first 2H
 * x 2W outputs. The weight is stored in PyTorch's layout (in, out, 4, 4) and initialised as PyTorch
 * does, uniform in {@code +-1/sqrt(fan_in)} with PyTorch's fan-in of that layout, {@code out * 16}
 * (axis 1 times the kernel area); the bias likewise.
 */
public final class ConvTranspose2d extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final int K = 4;

    private final long inChannels;
    private final long outChannels;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * Creates the block.
     *
     * @param inChannels input channels
     * @param outChannels output channels
     */
    public ConvTranspose2d(long inChannels, long outChannels) {
        super(VERSION);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        long fanIn = outChannels * K * K;
        weight =
                addParameter(
                        Parameter.builder()
                                .setName("weight")
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(inChannels, outChannels, K, K))
                                .optInitializer(new FanInUniformInitializer(fanIn))
                                .build());
        bias =
                addParameter(
                        Parameter.builder()
                                .setName("bias")
                                .setType(Parameter.Type.BIAS)
                                .optShape(new Shape(outChannels))
                                .optInitializer(new FanInUniformInitializer(fanIn))
                                .build());
    }

    /**
     * Up-samples.
     *
     * @param ps the parameter store
     * @param inputs [(B, in, H, W)]
     * @param training whether training
     * @param params unused
     * @return [(B, out, 2H, 2W)]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray cell = x.reshape(b, c, h, 1, w, 1); // (B, C, H, 1, W, 1)
        NDArray row = cell.concat(cell.zerosLike(), 5); // (B, C, H, 1, W, 2)
        NDArray up = row.concat(row.zerosLike(), 3).reshape(b, c, 2 * h, 2 * w); // x at even
        NDArray wt = ps.getValue(weight, x.getDevice(), training); // (in, out, 4, 4)
        NDArray kernel = wt.transpose(1, 0, 2, 3).flip(2, 3); // (out, in, 4, 4)
        NDArray bs = ps.getValue(bias, x.getDevice(), training); // (out)
        NDArray y =
                Conv2d.conv2d(up, kernel, bs, new Shape(1, 1), new Shape(K - 2, K - 2))
                        .singletonOrThrow(); // (B, out, 2H + 1, 2W + 1)
        return new NDList(y.get(":, :, :" + 2 * h + ", :" + 2 * w)); // (B, out, 2H, 2W)
    }

    /**
     * Returns the output shape.
     *
     * @param inputShapes [(B, in, H, W)]
     * @return [(B, out, 2H, 2W)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), outChannels, 2 * s.get(2), 2 * s.get(3))};
    }

    /**
     * Checks the input's channel count.
     *
     * @param inputShapes [(B, in, H, W)]
     */
    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        if (inputShapes[0].get(1) != inChannels) {
            throw new IllegalArgumentException(
                    "ConvTranspose2d built for "
                            + inChannels
                            + " input channels, got "
                            + inputShapes[0]);
        }
    }
}
