package ai.crcd.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A strided 1x1 convolution computed as spatial subsampling followed by a stride-1 1x1 convolution.
 *
 * <p>Both are the same function with the same weight (B, Cout, Cin, 1, 1); this form avoids a crash
 * (SIGFPE in oneDNN's {@code brgemm_convolution_bwd_strided} blocking heuristics) of the CPU
 * libtorch 2.7.1 backward pass for large 1x1 stride-2 convolutions, e.g. 512 to 1024 channels on
 * 16x16 maps (ResNet50's projection shortcuts) on AVX-512 machines.
 *
 * <p>Input: NDList whose first array is (B, Cin, H, W). Output: [(B, Cout, ceil(H / s), ceil(W /
 * s))].
 */
final class SubsampledConv extends AbstractBlock {

    private final Conv2d conv;
    private final NDIndex subsample;
    private final int stride;

    /**
     * Wraps a stride-1 1x1 convolution.
     *
     * @param conv the 1x1 convolution with stride 1 and no padding
     * @param stride the stride to emulate
     */
    SubsampledConv(Conv2d conv, int stride) {
        this.conv = addChildBlock("conv", conv);
        this.stride = stride;
        this.subsample = new NDIndex(":, :, ::" + stride + ", ::" + stride);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray s = inputs.head().get(subsample); // (B, Cin, ceil(H / s), ceil(W / s)) view
        NDList out = conv.forward(ps, new NDList(s), training); // [(B, Cout, ...)]
        Chain.release(s, out);
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return conv.getOutputShapes(new Shape[] {Layers.convShape(in, in.get(1), stride)});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        conv.initialize(manager, dataType, Layers.convShape(in, in.get(1), stride));
    }
}
