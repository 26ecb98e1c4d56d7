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
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * VGG with batch norm (vgg8, vgg11, vgg13, vgg16, vgg19) as in RepDistiller's {@code vgg.py}: five
 * blocks of 3x3 conv (with bias) + BN + ReLU, 2x2 max pooling after the first three blocks (32 px
 * input), global average pooling to 512, linear classifier with N(0, 0.01) weights and zero bias.
 * Convolutions use N(0, 2 / fan_out) weights and zero bias.
 *
 * <p>Block 0 is the stem; blocks 1..4 are the four stages, each starting with the max pool (stages
 * 1..3) and ending in a ReLU whose input is the pre-activation output.
 */
public final class Vgg extends CifarNetwork {

    private static final int FEATURE_DIM = 512;
    private static final int STAGES = 4;

    private Vgg(NetOptions options, int[][] config) {
        super(
                options,
                convs(config[0], true),
                stages(config),
                null,
                FEATURE_DIM,
                Layers.NORMAL_001,
                Initializer.ZEROS);
    }

    /**
     * Creates a VGG from its block widths.
     *
     * @param options name, classes, input channels, pre-activation output
     * @param config conv widths per block, five blocks, the last one 512 wide
     * @return the network
     */
    static Vgg create(NetOptions options, int[]... config) {
        if (config.length != STAGES + 1) {
            throw new IllegalArgumentException("VGG needs 5 blocks, got " + config.length);
        }
        return new Vgg(options, config);
    }

    private static SequentialBlock convs(int[] widths, boolean reluLast) {
        // registered by name ("stem", "convs"), so a Chain keeps the parameter names
        SequentialBlock block = new Chain();
        for (int i = 0; i < widths.length; i++) {
            boolean relu = reluLast || i < widths.length - 1;
            block.add(new ConvBn(widths[i], 3, 1, 1, true, Layers.KAIMING_OUT, relu));
        }
        return block;
    }

    private static List<Block> stages(int[][] config) {
        List<Block> stages = new ArrayList<>();
        for (int s = 1; s < config.length; s++) {
            stages.add(new Stage(s < 4, convs(config[s], false)));
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return STAGES;
    }

    /** [x] to [relu(pre), pre], pre = convs(maxPool(x)) (the pool only where configured). */
    static final class Stage extends AbstractBlock {
        private final boolean pool;
        private final Block convs;

        Stage(boolean pool, Block convs) {
            this.pool = pool;
            this.convs = addChildBlock("convs", convs);
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDArray x = pool ? Layers.maxPool2(inputs.head()) : inputs.head(); // (B, C, H', W')
            NDArray pre = convs.forward(ps, new NDList(x), training).head(); // (B, C', H', W')
            Chain.release(x, inputs); // the pooled map
            return new NDList(Activation.relu(pre), pre);
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape out = convs.getOutputShapes(new Shape[] {pooled(inputShapes[0])})[0];
            return new Shape[] {out, out};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            convs.initialize(manager, dataType, pooled(inputShapes[0]));
        }

        private Shape pooled(Shape in) {
            return pool ? new Shape(in.get(0), in.get(1), in.get(2) / 2, in.get(3) / 2) : in;
        }
    }
}
