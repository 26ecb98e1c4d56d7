package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;

/**
 * One layer of VID as RepDistiller's {@code VIDLoss} ({@code distiller_zoo/VID.py}): the regressor
 * {@code conv1x1(Cs, Cm) - ReLU - conv1x1(Cm, Cm) - ReLU - conv1x1(Cm, Ct)} (no biases) predicting
 * the teacher's feature mean, and a learned per-channel variance {@code log(1 + exp(alpha_c)) +
 * eps} with {@code alpha} (stored as {@code log_scale}) initialised to {@code log(exp(init_pred_var
 * - eps) - 1)}, so that the initial variance is {@code init_pred_var}. Convolution weights are
 * initialised as PyTorch's {@code nn.Conv2d}: uniform in +-1/sqrt(C_in).
 */
public final class VidRegressor extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int inChannels;
    private final int midChannels;
    private final int outChannels;
    private final double eps;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Conv2d conv3;
    private final Parameter logScale;

    /**
     * Creates the layer.
     *
     * @param inChannels Cs, the student stage's channels
     * @param midChannels Cm (RepDistiller uses Ct)
     * @param outChannels Ct, the teacher stage's channels
     * @param initPredVar the initial variance, &gt; eps
     * @param eps the variance floor (1e-5 in the reference)
     */
    public VidRegressor(
            int inChannels, int midChannels, int outChannels, double initPredVar, double eps) {
        super(VERSION);
        this.inChannels = inChannels;
        this.midChannels = midChannels;
        this.outChannels = outChannels;
        this.eps = eps;
        conv1 = addChildBlock("conv1", conv1x1(inChannels, midChannels));
        conv2 = addChildBlock("conv2", conv1x1(midChannels, midChannels));
        conv3 = addChildBlock("conv3", conv1x1(midChannels, outChannels));
        float alpha0 = (float) Math.log(Math.expm1(initPredVar - eps));
        logScale =
                addParameter(
                        Parameter.builder()
                                .setName("log_scale")
                                .setType(Parameter.Type.OTHER)
                                .optShape(new Shape(outChannels))
                                .optInitializer(new ConstantInitializer(alpha0))
                                .build());
    }

    private static Conv2d conv1x1(int in, int out) {
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(1, 1))
                        .setFilters(out)
                        .optBias(false)
                        .build();
        conv.setInitializer(new FanInUniformInitializer(in), Parameter.Type.WEIGHT);
        return conv;
    }

    /**
     * Returns Cs, Cm, Ct.
     *
     * @return the channel counts
     */
    public int[] channels() {
        return new int[] {inChannels, midChannels, outChannels};
    }

    /**
     * Predicts the teacher feature's mean.
     *
     * @param parameterStore the parameter store
     * @param inputs [student feature (B, Cs, H, W)]
     * @param training whether training
     * @param params unused
     * @return [(B, Ct, H, W)]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDList x = conv1.forward(parameterStore, inputs, training); // (B, Cm, H, W)
        x = conv2.forward(parameterStore, new NDList(Activation.relu(x.head())), training);
        return conv3.forward(parameterStore, new NDList(Activation.relu(x.head())), training);
    }

    /**
     * Returns the per-channel variance {@code log(1 + exp(alpha)) + eps}.
     *
     * @param parameterStore the parameter store
     * @param like an array of the step: the result lives in its manager and device
     * @param training whether training
     * @return (Ct), with gradient to {@code log_scale}
     */
    public NDArray variance(ParameterStore parameterStore, NDArray like, boolean training) {
        NDArray alpha = parameterStore.getValue(logScale, like.getDevice(), training); // (Ct)
        // the step's array first, so that the results attach to the step's manager
        NDArray a = Scalars.of(like, 0.0).add(alpha); // (Ct)
        return a.exp().add(1.0).log().add(eps); // (Ct)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), outChannels, s.get(2), s.get(3))};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        conv1.initialize(manager, dataType, s);
        Shape mid = new Shape(s.get(0), midChannels, s.get(2), s.get(3));
        conv2.initialize(manager, dataType, mid);
        conv3.initialize(manager, dataType, mid);
    }
}
