package ai.crcd.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.initializer.XavierInitializer.FactorType;
import ai.djl.training.initializer.XavierInitializer.RandomType;

/**
 * Shared layer factories, initialisers and shape helpers of the model zoo (package-private).
 *
 * <p>Initialisers follow the PyTorch reference code: {@link #KAIMING_OUT} is {@code
 * kaiming_normal_(mode='fan_out', nonlinearity='relu')}, i.e. N(0, 2 / fan_out); {@link
 * #TORCH_DEFAULT} is PyTorch's default for conv and linear weights, U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)). BatchNorm uses gamma 1, beta 0, epsilon 1e-5 and DJL momentum 0.9 (PyTorch
 * momentum 0.1).
 */
final class Layers {

    /** DJL's batch norm momentum (PyTorch's 0.1). */
    private static final float BN_MOMENTUM = 0.9f;

    /** PyTorch's batch norm epsilon. */
    private static final float BN_EPSILON = 1e-5f;

    /** N(0, 2 / fan_out), fan_out = out_channels * kh * kw. */
    static final Initializer KAIMING_OUT =
            new XavierInitializer(RandomType.GAUSSIAN, FactorType.OUT, 2);

    /** U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for conv and linear weights. */
    static final Initializer TORCH_DEFAULT =
            new XavierInitializer(RandomType.UNIFORM, FactorType.IN, 1);

    /** N(0, 0.01), used by the VGG and MobileNetV2 reference classifiers. */
    static final Initializer NORMAL_001 = new NormalInitializer(0.01f);

    private static final Shape POOL_2 = new Shape(2, 2);
    private static final Shape PAD_0 = new Shape(0, 0);

    private Layers() {}

    /**
     * A square 2-D convolution.
     *
     * @param filters output channels
     * @param kernel kernel size (1 or 3)
     * @param stride stride
     * @param groups convolution groups (channels for depthwise)
     * @param bias whether the convolution has a bias (zero-initialised)
     * @param init weight initialiser
     * @return the block, (B, Cin, H, W) to (B, filters, H', W'), padding kernel / 2; a strided 1x1
     *     convolution is a {@link SubsampledConv}
     */
    static Block conv(
            int filters, int kernel, int stride, int groups, boolean bias, Initializer init) {
        if (kernel == 1 && stride > 1) {
            return new SubsampledConv(plainConv(filters, 1, 1, groups, bias, init), stride);
        }
        return plainConv(filters, kernel, stride, groups, bias, init);
    }

    private static Conv2d plainConv(
            int filters, int kernel, int stride, int groups, boolean bias, Initializer init) {
        int pad = kernel / 2;
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(kernel, kernel))
                        .setFilters(filters)
                        .optStride(new Shape(stride, stride))
                        .optPadding(new Shape(pad, pad))
                        .optGroups(groups)
                        .optBias(bias)
                        .build();
        conv.setInitializer(init, Parameter.Type.WEIGHT);
        return conv;
    }

    /**
     * A bias-free convolution with Kaiming fan-out initialisation (the common case).
     *
     * @param filters output channels
     * @param kernel kernel size
     * @param stride stride
     * @return the block
     */
    static Block conv(int filters, int kernel, int stride) {
        return conv(filters, kernel, stride, 1, false, KAIMING_OUT);
    }

    /**
     * A 2-D batch norm over the channel axis with PyTorch's defaults.
     *
     * @return the block, shape-preserving
     */
    static BatchNorm bn() {
        return BatchNorm.builder().optMomentum(BN_MOMENTUM).optEpsilon(BN_EPSILON).build();
    }

    /**
     * Runs a {@link #bn()} block on (B, C, H, W): the same as {@code bn.forward(ps, [x],
     * training)}, without the per-call cost of DJL's PyTorch batch norm for {@code axis = 1}.
     *
     * <p>DJL 0.36's PyTorch engine implements a batch norm over axis 1 as a sub-manager and two
     * {@code swapAxes(1, 1)} around libtorch's {@code batch_norm} (which always normalises axis 1);
     * {@code axis = -1} calls {@code batch_norm} directly: 67 us less per call on the project's CPU
     * (docs/performance.md), bit-identical output. Other engines take the block's own forward.
     *
     * @param bn the block (its parameters, running statistics and options)
     * @param ps the parameter store of the forward
     * @param x (B, C, H, W)
     * @param training whether batch statistics are used and the running ones updated
     * @return (B, C, H, W)
     */
    static NDArray batchNorm(BatchNorm bn, ParameterStore ps, NDArray x, boolean training) {
        if (!"PyTorch".equals(x.getManager().getEngine().getEngineName())) {
            return bn.forward(ps, new NDList(x), training).head();
        }
        ParameterList p = bn.getDirectParameters();
        Device d = x.getDevice();
        return BatchNorm.batchNorm(
                        x,
                        ps.getValue(p.get("runningMean"), d, training),
                        ps.getValue(p.get("runningVar"), d, training),
                        ps.getValue(p.get("gamma"), d, training),
                        ps.getValue(p.get("beta"), d, training),
                        -1,
                        BN_MOMENTUM,
                        BN_EPSILON,
                        training)
                .head();
    }

    /**
     * The final classifier.
     *
     * @param numClasses C
     * @param weightInit weight initialiser
     * @param biasInit bias initialiser
     * @return the block, (B, D) to (B, C)
     */
    static Linear linear(int numClasses, Initializer weightInit, Initializer biasInit) {
        Linear linear = Linear.builder().setUnits(numClasses).build();
        linear.setInitializer(weightInit, Parameter.Type.WEIGHT);
        linear.setInitializer(biasInit, Parameter.Type.BIAS);
        return linear;
    }

    /**
     * PyTorch's default bias initialiser of a linear layer with {@code fanIn} inputs.
     *
     * @param fanIn D
     * @return U(-1/sqrt(fanIn), 1/sqrt(fanIn))
     */
    static Initializer torchDefaultBias(int fanIn) {
        float bound = (float) (1.0 / Math.sqrt(fanIn));
        return (manager, shape, dataType) -> manager.randomUniform(-bound, bound, shape, dataType);
    }

    /**
     * Initialises {@code block} for {@code input} and returns its first output shape.
     *
     * @param block the block
     * @param manager parameter manager
     * @param dataType parameter data type
     * @param input the input shape
     * @return the block's first output shape
     */
    static Shape init(Block block, NDManager manager, DataType dataType, Shape input) {
        block.initialize(manager, dataType, input);
        return block.getOutputShapes(new Shape[] {input})[0];
    }

    /**
     * Initialises the blocks as a chain and returns the output shape of the last one.
     *
     * @param manager parameter manager
     * @param dataType parameter data type
     * @param input the input shape of the first block
     * @param blocks the chain
     * @return the output shape of the chain
     */
    static Shape initChain(NDManager manager, DataType dataType, Shape input, Block... blocks) {
        Shape s = input;
        for (Block b : blocks) {
            s = init(b, manager, dataType, s);
        }
        return s;
    }

    /**
     * The output shape of a padded (kernel 1 pad 0 or kernel 3 pad 1) convolution or pooling.
     *
     * @param in (B, C, H, W)
     * @param channels output channels
     * @param stride stride
     * @return (B, channels, (H - 1) / stride + 1, (W - 1) / stride + 1)
     */
    static Shape convShape(Shape in, long channels, int stride) {
        return new Shape(
                in.get(0), channels, (in.get(2) - 1) / stride + 1, (in.get(3) - 1) / stride + 1);
    }

    /**
     * 2x2 max pooling with stride 2.
     *
     * @param x (B, C, H, W)
     * @return (B, C, H / 2, W / 2)
     */
    static NDArray maxPool2(NDArray x) {
        return Pool.maxPool2d(x, POOL_2, POOL_2, PAD_0, false);
    }

    /**
     * Channel shuffle of ShuffleNet: (B, g, C/g, H, W) transposed to (B, C/g, g, H, W).
     *
     * @param x (B, C, H, W)
     * @param groups g, dividing C
     * @return (B, C, H, W) with the channels interleaved across groups
     */
    static NDArray channelShuffle(NDArray x, int groups) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray split = x.reshape(b, groups, c / groups, h, w); // view
        NDArray swapped = split.transpose(0, 2, 1, 3, 4); // (B, C/g, g, H, W) view
        NDArray out = swapped.reshape(b, c, h, w); // contiguous copy
        NDList kept = new NDList(x, out);
        Chain.release(split, kept);
        Chain.release(swapped, kept);
        return out;
    }
}
