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
import java.util.ArrayList;
import java.util.List;

/**
 * ShuffleNetV2 1x (RepDistiller's {@code ShuffleV2}): 1x1 conv(24)-BN-ReLU stem, three stages of a
 * down-sampling unit followed by 3, 7, 3 basic units (116, 232, 464 channels), 1x1 conv-BN-ReLU to
 * 1024, global average pooling, linear classifier. Basic unit: split channels in halves, the second
 * half goes through 1x1 conv-BN-ReLU, 3x3 depthwise conv-BN, 1x1 conv-BN-ReLU, then concatenation
 * with the first half and channel shuffle (2 groups). Down-sampling unit: two stride-2 branches
 * (depthwise-BN, 1x1-BN-ReLU and 1x1-BN-ReLU, depthwise-BN, 1x1-BN-ReLU), concatenation, shuffle.
 * All weights use PyTorch's default initialisation, as the reference does.
 *
 * <p>Pre-activation output of a stage: its last unit's output with the final ReLU left out, i.e.
 * {@code shuffle(cat(x1, pre))} (RepDistiller returns it before the shuffle; shuffling it keeps
 * {@code relu(preact) == stage output}, the first half being a ReLU output already). It is only
 * computed when requested.
 */
public final class ShuffleNetV2 extends CifarNetwork {

    private static final int[] OUT = {116, 232, 464};
    private static final int[] BLOCKS = {3, 7, 3};
    private static final int STEM = 24;
    private static final int LAST_CHANNEL = 1024;

    private ShuffleNetV2(NetOptions options) {
        super(
                options,
                conv(STEM, 1, 1, 1, true),
                stages(options.preActivation()),
                conv(LAST_CHANNEL, 1, 1, 1, true),
                LAST_CHANNEL,
                Layers.TORCH_DEFAULT,
                Layers.torchDefaultBias(LAST_CHANNEL));
    }

    /**
     * Creates the network.
     *
     * @param options name, classes, input channels, pre-activation output
     * @return the network
     */
    static ShuffleNetV2 create(NetOptions options) {
        return new ShuffleNetV2(options);
    }

    private static ConvBn conv(int filters, int kernel, int stride, int groups, boolean relu) {
        return new ConvBn(filters, kernel, stride, groups, false, Layers.TORCH_DEFAULT, relu);
    }

    private static List<Block> stages(boolean preAct) {
        List<Block> stages = new ArrayList<>(OUT.length);
        int in = STEM;
        for (int s = 0; s < OUT.length; s++) {
            // registered as "stage<k>": a Chain keeps the parameter names
            SequentialBlock stage = new Chain().add(new DownUnit(in, OUT[s]));
            for (int i = 0; i < BLOCKS[s]; i++) {
                stage.add(new BasicUnit(OUT[s], preAct && i == BLOCKS[s] - 1));
            }
            in = OUT[s];
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return OUT.length;
    }

    /** [x] to [out] or [out, preact] (see the class comment); channels preserved. */
    static final class BasicUnit extends AbstractBlock {
        private final Block branch;
        private final boolean emitPreAct;

        BasicUnit(int channels, boolean emitPreAct) {
            int half = channels / 2;
            this.emitPreAct = emitPreAct;
            branch =
                    addChildBlock(
                            "branch",
                            new Chain()
                                    .add(conv(half, 1, 1, 1, true))
                                    .add(conv(half, 3, 1, half, false))
                                    .add(conv(half, 1, 1, 1, false)));
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDList halves = inputs.head().split(2, 1); // 2 x (B, C/2, H, W) views
            NDArray x1 = halves.get(0);
            NDArray x2 = halves.get(1);
            NDArray pre = branch.forward(ps, new NDList(x2), training).head(); // (B, C/2, H, W)
            Chain.release(x2, inputs);
            NDArray act = Activation.relu(pre);
            NDArray out = shuffledCat(x1, act); // (B, C, H, W)
            Chain.release(act, inputs);
            NDArray preAct = emitPreAct ? shuffledCat(x1, pre) : null;
            Chain.release(x1, inputs); // the split half, after the last concat that reads it
            Chain.release(pre, inputs);
            return emitPreAct ? new NDList(out, preAct) : new NDList(out);
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return emitPreAct
                    ? new Shape[] {inputShapes[0], inputShapes[0]}
                    : new Shape[] {inputShapes[0]};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape in = inputShapes[0];
            branch.initialize(
                    manager, dataType, new Shape(in.get(0), in.get(1) / 2, in.get(2), in.get(3)));
        }
    }

    /** [x] to [shuffle(cat(left(x), right(x)))], stride 2, (B, out, H/2, W/2). */
    static final class DownUnit extends AbstractBlock {
        private final Block left;
        private final Block right;

        DownUnit(int in, int out) {
            int mid = out / 2;
            left =
                    addChildBlock(
                            "left",
                            new Chain()
                                    .add(conv(in, 3, 2, in, false))
                                    .add(conv(mid, 1, 1, 1, true)));
            right =
                    addChildBlock(
                            "right",
                            new Chain()
                                    .add(conv(mid, 1, 1, 1, true))
                                    .add(conv(mid, 3, 2, mid, false))
                                    .add(conv(mid, 1, 1, 1, true)));
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDList x = new NDList(inputs.head()); // (B, Cin, H, W)
            NDArray a = left.forward(ps, x, training).head(); // (B, out/2, H', W')
            NDArray b = right.forward(ps, x, training).head(); // (B, out/2, H', W')
            NDArray out = shuffledCat(a, b); // (B, out, H', W')
            Chain.release(a, x);
            Chain.release(b, x);
            return new NDList(out);
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape a = left.getOutputShapes(new Shape[] {inputShapes[0]})[0];
            return new Shape[] {new Shape(a.get(0), 2 * a.get(1), a.get(2), a.get(3))};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            left.initialize(manager, dataType, inputShapes[0]);
            right.initialize(manager, dataType, inputShapes[0]);
        }
    }

    /**
     * shuffle(cat(a, b)) over the channels, as both units end; the concatenation is closed.
     *
     * @param a (B, C/2, H, W)
     * @param b (B, C/2, H, W)
     * @return (B, C, H, W)
     */
    private static NDArray shuffledCat(NDArray a, NDArray b) {
        NDArray cat = a.concat(b, 1); // (B, C, H, W)
        NDArray out = Layers.channelShuffle(cat, 2);
        Chain.release(cat, new NDList(a, b, out));
        return out;
    }
}
