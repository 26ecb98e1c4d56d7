package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * PyTorch's {@code nn.ConvTranspose2d(in, out, k, stride=2, padding=p)} (DJL's PyTorch engine has
 * no transposed convolution): the input with a zero inserted between neighbouring pixels, then a
 * stride-1 convolution with padding {@code k - 1 - p}. The convolution's kernel is the transposed
 * convolution's, spatially flipped and with in/out swapped ({@code W_c[o][i][a][b] =
 * W_t[i][o][k-1-a][k-1-b]}); it is initialised as PyTorch initialises {@code ConvTranspose2d}:
 * uniform in +-1/sqrt(out * k * k), weight and bias. Output (B, out, 2H - 2 + k - 2p, ...), e.g. 2H
 * for k = 4, p = 1.
 */
final class StridedTransposedConv extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Conv2d conv;

    /**
     * Creates the layer.
     *
     * @param out output channels
     * @param k kernel size
     * @param pad the transposed convolution's padding, &lt;= k - 1
     */
    StridedTransposedConv(long out, long k, long pad) {
        super(VERSION);
        conv =
                addChildBlock(
                        "conv",
                        Conv2d.builder()
                                .setKernelShape(new Shape(k, k))
                                .optPadding(new Shape(k - 1 - pad, k - 1 - pad))
                                .setFilters((int) out)
                                .build());
        FanInUniformInitializer init = new FanInUniformInitializer(out * k * k);
        conv.setInitializer(init, Parameter.Type.WEIGHT);
        conv.setInitializer(init, Parameter.Type.BIAS);
    }

    /**
     * Inserts a zero between neighbouring pixels.
     *
     * @param x (B, C, H, W)
     * @return (B, C, 2H - 1, 2W - 1)
     */
    static NDArray dilate(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray a = x.expandDims(4); // (B, C, H, W, 1)
        a = NDArrays.concat(new NDList(a, a.zerosLike()), 4); // (B, C, H, W, 2)
        a = a.reshape(b, c, h, 2 * w).get(new NDIndex(":, :, :, :{}", 2 * w - 1));
        NDArray r = a.expandDims(3); // (B, C, H, 1, 2W - 1)
        r = NDArrays.concat(new NDList(r, r.zerosLike()), 3); // (B, C, H, 2, 2W - 1)
        return r.reshape(b, c, 2 * h, 2 * w - 1).get(new NDIndex(":, :, :{}, :", 2 * h - 1));
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return conv.forward(ps, new NDList(dilate(inputs.singletonOrThrow())), training);
    }

    private static Shape dilated(Shape s) {
        return new Shape(s.get(0), s.get(1), 2 * s.get(2) - 1, 2 * s.get(3) - 1);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv.getOutputShapes(new Shape[] {dilated(inputShapes[0])});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        conv.initialize(manager, dataType, dilated(inputShapes[0]));
    }
}
