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
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * Wide ResNets wrn_d_k as in RepDistiller's {@code wrn.py}: 3x3 conv(16) stem (no BN), three stages
 * of (d - 4) / 6 pre-activation blocks (BN-ReLU-conv3x3-BN-ReLU-conv3x3, channels 16k, 32k, 64k,
 * strides 1, 2, 2), 1x1 conv shortcut on the activated input where the channels change, a final
 * BN-ReLU, global average pooling, linear classifier (bias zero). Convolutions have no bias and
 * N(0, 2 / fan_out) initialisation.
 *
 * <p>Features, as in RepDistiller: the stem output is the raw first convolution; a stage output is
 * the raw residual sum of its last block (the architecture has no ReLU there); the pre-activation
 * output of stage k is that sum after the <em>next</em> batch norm (the first BN of stage k + 1, or
 * the final BN), i.e. the tensor that the following ReLU consumes.
 *
 * <p>Implementation note: each block's leading BN is owned by the block (or stem) before it, which
 * returns [sum, bn(sum)]; the same arithmetic and parameter count as the reference, and the
 * pre-activation outputs come for free.
 */
public final class WideResNet extends CifarNetwork {

    private static final int STAGES = 3;
    private static final Initializer INIT = Layers.KAIMING_OUT;

    private WideResNet(NetOptions options, int depth, int widen) {
        super(
                options,
                new Stem(16),
                stages(depth, widen),
                new FinalRelu(),
                64 * widen,
                Layers.TORCH_DEFAULT,
                Initializer.ZEROS);
    }

    /**
     * Creates wrn_depth_widen.
     *
     * @param options name, classes, input channels, pre-activation output
     * @param depth 6n + 4
     * @param widen widening factor k
     * @return the network
     */
    static WideResNet create(NetOptions options, int depth, int widen) {
        if ((depth - 4) % 6 != 0) {
            throw new IllegalArgumentException("WRN depth must be 6n+4, got " + depth);
        }
        return new WideResNet(options, depth, widen);
    }

    private static List<Block> stages(int depth, int widen) {
        int n = (depth - 4) / 6;
        int[] channels = {16 * widen, 32 * widen, 64 * widen};
        List<Block> stages = new ArrayList<>(STAGES);
        int in = 16;
        for (int s = 0; s < STAGES; s++) {
            SequentialBlock stage = new Chain(); // registered as "stage<k>": names unchanged
            for (int i = 0; i < n; i++) {
                int stride = (i == 0 && s > 0) ? 2 : 1;
                stage.add(new Unit(in, channels[s], stride));
                in = channels[s];
            }
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return STAGES;
    }

    /** Stem: [x] to [conv(x), bn(conv(x))], the BN being the first block's leading BN. */
    static final class Stem extends AbstractBlock {
        private final Block conv;
        private final BatchNorm nextBn;

        Stem(int filters) {
            conv = addChildBlock("conv", Layers.conv(filters, 3, 1, 1, false, INIT));
            nextBn = addChildBlock("nextBn", Layers.bn());
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDArray y =
                    conv.forward(ps, new NDList(inputs.head()), training).head(); // (B, 16, H, W)
            return new NDList(y, Layers.batchNorm(nextBn, ps, y, training));
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape out = conv.getOutputShapes(new Shape[] {inputShapes[0]})[0];
            return new Shape[] {out, out};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            Layers.initChain(manager, dataType, inputShapes[0], conv, nextBn);
        }
    }

    /**
     * Pre-activation block. Input [x, bn1(x)] (bn1 applied by the previous part); output [sum,
     * nextBn(sum)], sum = conv2(relu(bn2(conv1(a)))) + (x or shortcut(a)), a = relu(bn1(x)).
     */
    static final class Unit extends AbstractBlock {
        private final Block conv1;
        private final BatchNorm bn2;
        private final Block conv2;
        private final Block shortcut;
        private final BatchNorm nextBn;

        Unit(int in, int out, int stride) {
            conv1 = addChildBlock("conv1", Layers.conv(out, 3, stride, 1, false, INIT));
            bn2 = addChildBlock("bn2", Layers.bn());
            conv2 = addChildBlock("conv2", Layers.conv(out, 3, 1, 1, false, INIT));
            shortcut =
                    in == out
                            ? null
                            : addChildBlock(
                                    "shortcut", Layers.conv(out, 1, stride, 1, false, INIT));
            nextBn = addChildBlock("nextBn", Layers.bn());
        }

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            NDList a = new NDList(Activation.relu(inputs.get(1))); // (B, Cin, H, W)
            NDArray c1 = conv1.forward(ps, a, training).head(); // (B, Cout, H', W')
            NDArray b2 = Layers.batchNorm(bn2, ps, c1, training);
            Chain.release(c1, inputs);
            NDArray r2 = Activation.relu(b2);
            Chain.release(b2, inputs);
            NDArray c2 = conv2.forward(ps, new NDList(r2), training).head(); // (B, Cout, H', W')
            Chain.release(r2, inputs);
            NDArray res =
                    shortcut == null ? inputs.head() : shortcut.forward(ps, a, training).head();
            Chain.release(a.head(), inputs);
            NDArray sum = c2.add(res); // (B, Cout, H', W')
            Chain.release(c2, inputs);
            Chain.release(res, inputs); // the shortcut's output; never x itself
            return new NDList(sum, Layers.batchNorm(nextBn, ps, sum, training));
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape out = conv1.getOutputShapes(new Shape[] {inputShapes[0]})[0];
            return new Shape[] {out, out};
        }

        /** {@inheritDoc} */
        @Override
        protected void initializeChildBlocks(
                NDManager manager, DataType dataType, Shape... inputShapes) {
            Layers.initChain(manager, dataType, inputShapes[0], conv1, bn2, conv2, nextBn);
            if (shortcut != null) {
                Layers.init(shortcut, manager, dataType, inputShapes[0]);
            }
        }
    }

    /** Head: [sum, bn(sum)] to [relu(bn(sum))], the map that is pooled. */
    static final class FinalRelu extends AbstractBlock {

        /** {@inheritDoc} */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps,
                NDList inputs,
                boolean training,
                PairList<String, Object> params) {
            return new NDList(Activation.relu(inputs.get(1)));
        }

        /** {@inheritDoc} */
        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[1]};
        }
    }
}
