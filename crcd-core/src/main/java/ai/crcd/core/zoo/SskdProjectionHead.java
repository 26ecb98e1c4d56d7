package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * SSKD's self-supervision head ({@code proj_head} in SSKD's {@code wrapper.py}): {@code Linear(D,
 * D) -> ReLU -> Linear(D, D)} on a network's pooled feature (B, D), D the input size of its
 * classifier. Weights and biases initialised as PyTorch's default {@code nn.Linear}: uniform in
 * {@code +-1/sqrt(D)} ({@link FanInUniformInitializer}).
 */
public final class SskdProjectionHead extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Linear fc1;
    private final Linear fc2;
    private final long dim;

    /**
     * Creates the head.
     *
     * @param dim D, the pooled feature's size (input and output size of both layers)
     */
    public SskdProjectionHead(long dim) {
        super(VERSION);
        this.dim = dim;
        fc1 = addChildBlock("fc1", Linear.builder().setUnits(dim).build());
        fc2 = addChildBlock("fc2", Linear.builder().setUnits(dim).build());
        for (Linear l : new Linear[] {fc1, fc2}) {
            l.setInitializer(new FanInUniformInitializer(dim), Parameter.Type.WEIGHT);
            l.setInitializer(new FanInUniformInitializer(dim), Parameter.Type.BIAS);
        }
    }

    /**
     * Runs the head.
     *
     * @param ps the parameter store
     * @param inputs [pooled (N, D)]
     * @param training whether training
     * @param params unused
     * @return [(N, D)]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = fc1.forward(ps, inputs, training).singletonOrThrow(); // (N, D)
        h = Activation.relu(h); // (N, D)
        return fc2.forward(ps, new NDList(h), training); // (N, D)
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), dim)};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        fc1.initialize(manager, dataType, inputShapes[0]);
        fc2.initialize(manager, dataType, new Shape(inputShapes[0].get(0), dim));
    }
}
