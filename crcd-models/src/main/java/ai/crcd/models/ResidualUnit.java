package ai.crcd.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A post-activation residual unit: {@code pre = branch(x) + shortcut(x)}, {@code out = relu(pre)}
 * (ResNet basic and bottleneck blocks).
 *
 * <p>Input: an NDList whose first array is x (B, Cin, H, W). Output: [out, pre], both (B, Cout, H',
 * W'). The shortcut is the identity when {@code null}.
 */
final class ResidualUnit extends AbstractBlock {

    private final Block branch;
    private final Block shortcut;

    /**
     * Creates the unit.
     *
     * @param branch the residual branch (its last layer has no ReLU)
     * @param shortcut the projection shortcut, or {@code null} for the identity
     */
    ResidualUnit(Block branch, Block shortcut) {
        this.branch = addChildBlock("branch", branch);
        this.shortcut = shortcut == null ? null : addChildBlock("shortcut", shortcut);
    }

    /**
     * A unit whose branch is the given conv-bn layers in order.
     *
     * @param needsProjection whether the shortcut is a 1x1 conv + BN (shape change)
     * @param outChannels Cout
     * @param stride stride of the unit (taken by the projection shortcut)
     * @param layers the branch
     * @return the unit
     */
    static ResidualUnit of(boolean needsProjection, int outChannels, int stride, Block... layers) {
        SequentialBlock branch = new Chain().addAll(layers);
        return new ResidualUnit(
                branch, needsProjection ? ConvBn.of(outChannels, 1, stride, false) : null);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = new NDList(inputs.head()); // (B, Cin, H, W)
        NDArray y = branch.forward(ps, x, training).head(); // (B, Cout, H', W')
        NDArray s = shortcut == null ? x.head() : shortcut.forward(ps, x, training).head();
        NDArray pre = y.add(s);
        Chain.release(y, x);
        Chain.release(s, x);
        return new NDList(Activation.relu(pre), pre);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape out = branch.getOutputShapes(new Shape[] {inputShapes[0]})[0];
        return new Shape[] {out, out};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape out = Layers.init(branch, manager, dataType, inputShapes[0]);
        if (shortcut != null) {
            Layers.init(shortcut, manager, dataType, inputShapes[0]);
        } else if (!out.equals(inputShapes[0])) {
            throw new IllegalStateException(
                    "identity shortcut needs equal shapes, got " + inputShapes[0] + " -> " + out);
        }
    }
}
