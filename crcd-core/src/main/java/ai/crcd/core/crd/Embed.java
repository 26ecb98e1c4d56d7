package ai.crcd.core.crd;

import ai.crcd.core.FanInUniformInitializer;
import ai.crcd.core.crcd.FeatureElement;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * An embedding head: {@code Linear(d, featDim)}, optionally followed by l2 normalisation of each
 * row. With normalisation it is CRD's head, RepDistiller's {@code Embed}; without, RepDistiller's
 * {@code LinearEmbed} ({@code models/util.py}, CC's embeddings: {@link #linear}). Input (B, d) (a
 * higher-rank input is flattened to (B, -1)); output (B, featDim), unit rows when normalised. The
 * weight is stored (out, in) as DJL's {@link Linear}, under the child name {@code linear}.
 */
public final class Embed extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Linear linear;

    private final boolean normalize;

    /**
     * Creates the head.
     *
     * @param inputDim d
     * @param featDim the embedding size
     * @param init the initialiser of the weight and the bias
     * @param normalize whether to l2-normalise each output row
     */
    public Embed(long inputDim, long featDim, Initializer init, boolean normalize) {
        super(VERSION);
        this.normalize = normalize;
        linear = addChildBlock("linear", Linear.builder().setUnits(featDim).build());
        linear.setInitializer(init, Parameter.Type.WEIGHT);
        linear.setInitializer(init, Parameter.Type.BIAS);
    }

    /**
     * Creates CRD's head, l2-normalised; its parameters are initialised as PyTorch's default {@code
     * nn.Linear}: weight and bias uniform in +-1/sqrt(d), drawn from {@code random}.
     *
     * @param inputDim d
     * @param featDim the embedding size (128 in CRD)
     * @param random the seeded generator for the initial weights
     */
    Embed(long inputDim, long featDim, SeededRandom random) {
        this(
                inputDim,
                featDim,
                new SeededUniformInitializer(1.0 / Math.sqrt(inputDim), random),
                true);
    }

    /**
     * Returns RepDistiller's {@code LinearEmbed}: no normalisation, weight and bias initialised as
     * PyTorch's {@code nn.Linear} from the engine's generator ({@link FanInUniformInitializer}).
     *
     * @param inputDim dim_in (the flattened input size)
     * @param outputDim dim_out
     * @return the head
     */
    public static Embed linear(long inputDim, long outputDim) {
        return new Embed(inputDim, outputDim, new FanInUniformInitializer(inputDim), false);
    }

    /**
     * Normalises every row to unit l2 norm, as RepDistiller's {@code Normalize}; shares {@link
     * FeatureElement#l2Normalize}, whose 1e-12 floor only matters for an all-zero row.
     *
     * @param x (N, F)
     * @return (N, F) with unit rows
     */
    public static NDArray l2Normalise(NDArray x) {
        return FeatureElement.l2Normalize(x); // (N, F)
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        if (x.getShape().dimension() != 2) {
            x = x.reshape(x.getShape().get(0), -1); // (B, d)
        }
        NDArray y = linear.forward(parameterStore, new NDList(x), training).singletonOrThrow();
        return new NDList(normalize ? l2Normalise(y) : y); // (B, featDim)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return linear.getOutputShapes(new Shape[] {flat(inputShapes[0])});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            ai.djl.ndarray.NDManager manager, DataType dataType, Shape... inputShapes) {
        linear.initialize(manager, dataType, flat(inputShapes[0]));
    }

    private static Shape flat(Shape s) {
        return s.dimension() == 2 ? s : new Shape(s.get(0), s.size() / s.get(0));
    }
}
