package ai.crcd.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * MobileNetV2 at width 0.5 with expansion 6 (RepDistiller's {@code mobile_half}): 3x3 conv-BN-ReLU
 * stem with stride 2, inverted residual blocks (1x1 expand-BN-ReLU, 3x3 depthwise-BN-ReLU, 1x1
 * linear projection-BN; identity residual when stride 1 and equal channels; the first block also
 * has the 1x1 expansion, with ratio 1), 1x1 conv-BN-ReLU to 1280, global average pooling, linear
 * classifier with N(0, 0.01) weights. Convolutions use N(0, 2 / fan_out) weights.
 *
 * <p>Stages as RepDistiller's features: stage 1 = blocks 0-1, stage 2 = block 2, stage 3 = blocks
 * 3-4, stage 4 = blocks 5-6. Stage outputs are linear bottlenecks (no final ReLU), so the
 * pre-activation outputs equal the stage outputs.
 */
public final class MobileNetV2 extends CifarNetwork {

    /** Expansion t, channels c, blocks n, stride s per block group, before width scaling. */
    private static final int[][] SETTINGS = {
        {1, 16, 1, 1},
        {6, 24, 2, 1},
        {6, 32, 3, 2},
        {6, 64, 4, 2},
        {6, 96, 3, 1},
        {6, 160, 3, 2},
        {6, 320, 1, 1}
    };

    /** The block groups that form each stage (indices into SETTINGS, end exclusive). */
    private static final int[] STAGE_ENDS = {2, 3, 5, 7};

    private static final double WIDTH = 0.5;
    private static final int LAST_CHANNEL = 1280;

    private MobileNetV2(NetOptions options) {
        super(
                options,
                ConvBn.of((int) (32 * WIDTH), 3, 2, true),
                stages(),
                ConvBn.of(LAST_CHANNEL, 1, 1, true),
                LAST_CHANNEL,
                Layers.NORMAL_001,
                Initializer.ZEROS);
    }

    /**
     * Creates the network.
     *
     * @param options name, classes, input channels, pre-activation output
     * @return the network
     */
    static MobileNetV2 create(NetOptions options) {
        return new MobileNetV2(options);
    }

    private static List<Block> stages() {
        List<Block> stages = new ArrayList<>(STAGE_ENDS.length);
        int in = (int) (32 * WIDTH);
        int group = 0;
        for (int end : STAGE_ENDS) {
            SequentialBlock stage = new Chain(); // registered as "stage<k>": names unchanged
            for (; group < end; group++) {
                int[] g = SETTINGS[group];
                int out = (int) (g[1] * WIDTH);
                for (int i = 0; i < g[2]; i++) {
                    stage.add(new InvertedResidual(in, out, i == 0 ? g[3] : 1, g[0]));
                    in = out;
                }
            }
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return STAGE_ENDS.length;
    }

    /** [x] to [y] or [x + y], y = project(depthwise(expand(x))). */
    static final class InvertedResidual extends AbstractBlock {
        private final Block branch;
        private final boolean residual;

        InvertedResidual(int in, int out, int stride, int expansion) {
            int hidden = in * expansion;
            residual = stride == 1 && in == out;
            branch =
                    addChildBlock(
                            "branch",
                            new Chain() // registered as "branch": names unchanged
                                    .add(ConvBn.of(hidden, 1, 1, true))
                                    .add(
                                            new ConvBn(
                                                    hidden,
                                                    3,
                                                    stride,
                                                    hidden,
                                                    false,
                                                    Layers.KAIMING_OUT,
                                                    true))
                                    .add(ConvBn.of(out, 1, 1, false)));
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDArray x = inputs.head(); // (B, Cin, H, W)
            NDArray y = branch.forward(ps, new NDList(x), training).head(); // (B, Cout, H', W')
            if (!residual) {
                return new NDList(y);
            }
            NDArray sum = y.add(x); // (B, Cout, H, W)
            Chain.release(y, inputs);
            return new NDList(sum);
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return branch.getOutputShapes(new Shape[] {inputShapes[0]});
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            branch.initialize(manager, dataType, inputShapes[0]);
        }
    }
}
