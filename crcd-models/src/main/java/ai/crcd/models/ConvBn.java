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
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * Convolution, batch norm and (optionally) ReLU: the basic unit of every network in the zoo.
 *
 * <p>Input: an NDList whose first array is (B, Cin, H, W) (further arrays are ignored). Output: a
 * singleton NDList (B, filters, H', W').
 */
final class ConvBn extends AbstractBlock {

    private final Block conv;
    private final BatchNorm bn;
    private final boolean relu;

    /**
     * Creates the unit.
     *
     * @param filters output channels
     * @param kernel kernel size (1 or 3, padding kernel / 2)
     * @param stride stride
     * @param groups convolution groups
     * @param bias whether the convolution has a bias
     * @param init convolution weight initialiser
     * @param relu whether a ReLU follows the batch norm
     */
    ConvBn(
            int filters,
            int kernel,
            int stride,
            int groups,
            boolean bias,
            Initializer init,
            boolean relu) {
        this.conv = addChildBlock("conv", Layers.conv(filters, kernel, stride, groups, bias, init));
        this.bn = addChildBlock("bn", Layers.bn());
        this.relu = relu;
    }

    /**
     * A bias-free, ungrouped, Kaiming-initialised unit.
     *
     * @param filters output channels
     * @param kernel kernel size
     * @param stride stride
     * @param relu whether a ReLU follows
     * @return the unit
     */
    static ConvBn of(int filters, int kernel, int stride, boolean relu) {
        return new ConvBn(filters, kernel, stride, 1, false, Layers.KAIMING_OUT, relu);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray c = conv.forward(ps, new NDList(inputs.head()), training).head();
        NDArray y = Layers.batchNorm(bn, ps, c, training);
        Chain.release(c, inputs);
        if (!relu) {
            return new NDList(y); // (B, filters, H', W')
        }
        NDArray r = Activation.relu(y);
        Chain.release(y, inputs);
        return new NDList(r); // (B, filters, H', W')
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv.getOutputShapes(new Shape[] {inputShapes[0]});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Layers.initChain(manager, dataType, inputShapes[0], conv, bn);
    }
}
