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
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * ShuffleNetV1 with 3 groups (RepDistiller's {@code ShuffleV1}): 1x1 conv(24)-BN-ReLU stem, three
 * stages of 4, 8, 4 bottlenecks with 240, 480, 960 output channels. Bottleneck: grouped 1x1
 * conv-BN-ReLU to out / 4 channels (1 group when fed by the stem), channel shuffle, 3x3 depthwise
 * conv-BN-ReLU, grouped 1x1 conv-BN; the first unit of a stage has stride 2 and concatenates a 3x3
 * average-pooled shortcut (padding counted), the others add the identity; ReLU after the merge.
 * Global average pooling to 960, linear classifier. All weights use PyTorch's default
 * initialisation, as the reference does.
 *
 * <p>Stages end in a ReLU; the pre-activation outputs are the merged tensors before it.
 */
public final class ShuffleNetV1 extends CifarNetwork {

    private static final int[] OUT = {240, 480, 960};
    private static final int[] BLOCKS = {4, 8, 4};
    private static final int GROUPS = 3;
    private static final int STEM = 24;

    private ShuffleNetV1(NetOptions options) {
        super(
                options,
                new ConvBn(STEM, 1, 1, 1, false, Layers.TORCH_DEFAULT, true),
                stages(),
                null,
                OUT[OUT.length - 1],
                Layers.TORCH_DEFAULT,
                Layers.torchDefaultBias(OUT[OUT.length - 1]));
    }

    /**
     * Creates the network.
     *
     * @param options name, classes, input channels, pre-activation output
     * @return the network
     */
    static ShuffleNetV1 create(NetOptions options) {
        return new ShuffleNetV1(options);
    }

    private static List<Block> stages() {
        List<Block> stages = new ArrayList<>(OUT.length);
        int in = STEM;
        for (int s = 0; s < OUT.length; s++) {
            SequentialBlock stage = new Chain(); // registered as "stage<k>": names unchanged
            for (int i = 0; i < BLOCKS[s]; i++) {
                // the stride-2 unit concatenates its input, so its branch makes the difference
                stage.add(new Unit(in, i == 0 ? OUT[s] - in : OUT[s], i == 0 ? 2 : 1));
                in = OUT[s];
            }
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return OUT.length;
    }

    /** [x] to [relu(pre), pre], pre = branch(x) + x (stride 1) or cat(branch(x), avgPool(x)). */
    static final class Unit extends AbstractBlock {
        private static final Shape K3 = new Shape(3, 3);
        private static final Shape S2 = new Shape(2, 2);
        private static final Shape P1 = new Shape(1, 1);

        private final Block reduce;
        private final Block rest;
        private final int firstGroups;
        private final int stride;

        Unit(int in, int out, int stride) {
            int mid = out / 4;
            this.stride = stride;
            this.firstGroups = in == STEM ? 1 : GROUPS;
            reduce =
                    addChildBlock(
                            "reduce",
                            new ConvBn(mid, 1, 1, firstGroups, false, Layers.TORCH_DEFAULT, true));
            rest =
                    addChildBlock(
                            "rest",
                            new Chain() // registered by name: parameter names unchanged
                                    .add(
                                            new ConvBn(
                                                    mid,
                                                    3,
                                                    stride,
                                                    mid,
                                                    false,
                                                    Layers.TORCH_DEFAULT,
                                                    true))
                                    .add(
                                            new ConvBn(
                                                    out,
                                                    1,
                                                    1,
                                                    GROUPS,
                                                    false,
                                                    Layers.TORCH_DEFAULT,
                                                    false)));
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.head(); // (B, Cin, H, W)
            NDArray r = reduce.forward(ps, new NDList(x), training).head(); // (B, mid, H, W)
            NDArray h = r;
            if (firstGroups > 1) {
                h = Layers.channelShuffle(r, firstGroups);
                Chain.release(r, inputs);
            }
            NDArray y = rest.forward(ps, new NDList(h), training).head(); // (B, out, H', W')
            Chain.release(h, inputs);
            NDArray pre; // (B, out [+ Cin], H', W')
            if (stride == 2) {
                NDArray pooled = Pool.avgPool2d(x, K3, S2, P1, false, true); // (B, Cin, H', W')
                pre = y.concat(pooled, 1);
                Chain.release(pooled, inputs);
            } else {
                pre = y.add(x);
            }
            Chain.release(y, inputs);
            return new NDList(Activation.relu(pre), pre);
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape in = inputShapes[0];
            Shape y = rest.getOutputShapes(reduce.getOutputShapes(new Shape[] {in}))[0];
            Shape out = stride == 2 ? Layers.convShape(in, y.get(1) + in.get(1), 2) : y;
            return new Shape[] {out, out};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            Layers.initChain(manager, dataType, inputShapes[0], reduce, rest);
        }
    }
}
