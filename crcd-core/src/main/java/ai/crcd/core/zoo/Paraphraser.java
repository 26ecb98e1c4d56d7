package ai.crcd.core.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * FT's paraphraser, RepDistiller's {@code Paraphraser} ({@code models/util.py}, {@code k = 0.5}, no
 * BatchNorm) on the teacher's last stage (B, C, H, W), with {@code C' = floor(C k)}:
 *
 * <pre>
 * encoder: conv3x3(C, C) - LReLU - conv3x3(C, C') - LReLU - conv3x3(C', C') - LReLU   -> factor
 * decoder: convT3x3(C', C') - LReLU - convT3x3(C', C) - LReLU - convT3x3(C, C) - LReLU -> rec
 * </pre>
 *
 * LeakyReLU slope 0.1, stride 1, padding 1. A stride-1, padding-1 3x3 transposed convolution is a
 * convolution with the spatially flipped, channel-transposed kernel, so the decoder's layers are
 * convolutions initialised as PyTorch's {@code ConvTranspose2d} (uniform in +-1/sqrt(out * 9)): the
 * same function family and initial distribution.
 *
 * <p>Forward: [x] gives [factor (B, C', H, W), rec (B, C, H, W)]; {@link #factor} the encoder only.
 */
public final class Paraphraser extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final float SLOPE = 0.1f;

    private final Conv2d[] encoder = new Conv2d[3];
    private final Conv2d[] decoder = new Conv2d[3];
    private final long factorChannels;

    /**
     * Creates the paraphraser.
     *
     * @param channels C, the teacher's channels
     * @param rate k (RepDistiller 0.5)
     */
    public Paraphraser(long channels, double rate) {
        super(VERSION);
        long out = (long) (channels * rate);
        this.factorChannels = out;
        encoder[0] = addChildBlock("enc1", ZooLayers.conv(channels, channels, 3, 3, 1, 1));
        encoder[1] = addChildBlock("enc2", ZooLayers.conv(channels, out, 3, 3, 1, 1));
        encoder[2] = addChildBlock("enc3", ZooLayers.conv(out, out, 3, 3, 1, 1));
        decoder[0] = addChildBlock("dec1", transposedAsConv(out, out));
        decoder[1] = addChildBlock("dec2", transposedAsConv(out, channels));
        decoder[2] = addChildBlock("dec3", transposedAsConv(channels, channels));
    }

    private static Conv2d transposedAsConv(long in, long out) {
        Conv2d c = ZooLayers.conv(in, out, 3, 3, 1, 1);
        ai.crcd.core.FanInUniformInitializer init =
                new ai.crcd.core.FanInUniformInitializer(out * 9); // ConvTranspose2d's fan-in
        c.setInitializer(init, ai.djl.nn.Parameter.Type.WEIGHT);
        c.setInitializer(init, ai.djl.nn.Parameter.Type.BIAS);
        return c;
    }

    /**
     * Returns C', the factor's channels.
     *
     * @return C'
     */
    public long factorChannels() {
        return factorChannels;
    }

    /**
     * Runs the encoder.
     *
     * @param ps the parameter store
     * @param x (B, C, H, W)
     * @param training the mode
     * @return (B, C', H, W)
     */
    public NDArray factor(ParameterStore ps, NDArray x, boolean training) {
        return run(encoder, ps, x, training);
    }

    private static NDArray run(Conv2d[] layers, ParameterStore ps, NDArray x, boolean training) {
        NDArray h = x;
        for (Conv2d c : layers) {
            h =
                    Activation.leakyRelu(
                            c.forward(ps, new NDList(h), training).singletonOrThrow(), SLOPE);
        }
        return h;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray factor = factor(ps, inputs.singletonOrThrow(), training); // (B, C', H, W)
        NDArray rec = run(decoder, ps, factor, training); // (B, C, H, W)
        return new NDList(factor, rec);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), factorChannels, in.get(2), in.get(3)), in};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        for (Conv2d c : encoder) {
            c.initialize(manager, dataType, s);
            s = c.getOutputShapes(new Shape[] {s})[0];
        }
        for (Conv2d c : decoder) {
            c.initialize(manager, dataType, s);
            s = c.getOutputShapes(new Shape[] {s})[0];
        }
    }
}
