package ai.crcd.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The stem of torchvision's ResNets: 7x7 stride-2 convolution (padding 3, no bias, Kaiming
 * fan-out), batch norm, ReLU, 3x3 stride-2 max pooling (padding 1). Children are named {@code conv}
 * and {@code bn} as in {@link ConvBn}, so the parameters are {@code stem_conv_weight}, {@code
 * stem_bn_gamma}, ... (torchvision: {@code conv1.weight}, {@code bn1.*}).
 *
 * <p>Input: an NDList whose first array is (B, Cin, H, W). Output: [(B, 64, H / 4, W / 4)]
 * (precisely ceil(ceil(H / 2) / 2) for the padded convolution and pooling).
 */
final class ImageNetStem extends AbstractBlock {

    private static final Shape POOL_KERNEL = new Shape(3, 3);
    private static final Shape POOL_STRIDE = new Shape(2, 2);
    private static final Shape POOL_PAD = new Shape(1, 1);

    private final Block conv;
    private final BatchNorm bn;

    /**
     * Creates the stem.
     *
     * @param filters output channels of the convolution (64 in torchvision)
     */
    ImageNetStem(int filters) {
        this.conv = addChildBlock("conv", Layers.conv(filters, 7, 2));
        this.bn = addChildBlock("bn", Layers.bn());
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray c =
                conv.forward(ps, new NDList(inputs.head()), training).head(); // (B, 64, H/2, W/2)
        NDArray y = Layers.batchNorm(bn, ps, c, training);
        Chain.release(c, inputs);
        NDArray r = Activation.relu(y);
        Chain.release(y, inputs);
        NDArray out = Pool.maxPool2d(r, POOL_KERNEL, POOL_STRIDE, POOL_PAD, false);
        Chain.release(r, inputs);
        return new NDList(out); // (B, 64, H/4, W/4)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape c = conv.getOutputShapes(new Shape[] {inputShapes[0]})[0];
        return new Shape[] {Layers.convShape(c, c.get(1), 2)};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Layers.initChain(manager, dataType, inputShapes[0], conv, bn);
    }
}
