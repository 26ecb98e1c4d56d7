package ai.crcd.core.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * FT's translator, RepDistiller's {@code Translator} ({@code models/util.py}, {@code k = 0.5}, with
 * BatchNorm) on the student's last stage (B, Cs, H, W), {@code C' = floor(Ct k)}: conv3x3(Cs,
 * Cs)-BN-LReLU, conv3x3(Cs, C')-BN-LReLU, conv3x3(C', C')-BN-LReLU (slope 0.1). Output (B, C', H,
 * W).
 */
public final class Translator extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final float SLOPE = 0.1f;

    private final Conv2d[] convs = new Conv2d[3];
    private final BatchNorm[] bns = new BatchNorm[3];

    /**
     * Creates the translator.
     *
     * @param studentChannels Cs
     * @param teacherChannels Ct
     * @param rate k (RepDistiller 0.5)
     */
    public Translator(long studentChannels, long teacherChannels, double rate) {
        super(VERSION);
        long out = (long) (teacherChannels * rate);
        long[] in = {studentChannels, studentChannels, out};
        long[] outs = {studentChannels, out, out};
        for (int i = 0; i < 3; i++) {
            convs[i] = addChildBlock("conv" + (i + 1), ZooLayers.conv(in[i], outs[i], 3, 3, 1, 1));
            bns[i] = addChildBlock("bn" + (i + 1), BatchNorm.builder().build());
        }
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.singletonOrThrow();
        for (int i = 0; i < 3; i++) {
            NDList y = convs[i].forward(ps, new NDList(h), training);
            h = Activation.leakyRelu(bns[i].forward(ps, y, training).singletonOrThrow(), SLOPE);
        }
        return new NDList(h); // (B, C', H, W)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        for (Conv2d c : convs) {
            s = c.getOutputShapes(new Shape[] {s})[0];
        }
        return new Shape[] {s};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        for (int i = 0; i < 3; i++) {
            convs[i].initialize(manager, dataType, s);
            s = convs[i].getOutputShapes(new Shape[] {s})[0];
            bns[i].initialize(manager, dataType, s);
        }
    }
}
