package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * RepDistiller's {@code LinearEmbed} ({@code models/util.py}): flatten to (B, -1), then {@code
 * nn.Linear(dim_in, dim_out)}, no normalisation. Weight (stored (out, in) as DJL's {@link Linear})
 * and bias are initialised as PyTorch's {@code nn.Linear}: uniform in +-1/sqrt(dim_in).
 */
public final class LinearEmbed extends AbstractBlock {

    private static final byte VERSION = 1;

    private final long inputDim;
    private final Linear linear;

    /**
     * Creates the embedding.
     *
     * @param inputDim dim_in (the flattened input size)
     * @param outputDim dim_out
     */
    public LinearEmbed(long inputDim, long outputDim) {
        super(VERSION);
        this.inputDim = inputDim;
        linear = addChildBlock("linear", Linear.builder().setUnits(outputDim).build());
        FanInUniformInitializer init = new FanInUniformInitializer(inputDim);
        linear.setInitializer(init, Parameter.Type.WEIGHT);
        linear.setInitializer(init, Parameter.Type.BIAS);
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
            x = x.reshape(x.getShape().get(0), -1); // (B, dim_in)
        }
        return linear.forward(parameterStore, new NDList(x), training); // (B, dim_out)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return linear.getOutputShapes(new Shape[] {flat(inputShapes[0])});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        linear.initialize(manager, dataType, flat(inputShapes[0]));
    }

    private Shape flat(Shape s) {
        return new Shape(s.get(0), inputDim);
    }
}
