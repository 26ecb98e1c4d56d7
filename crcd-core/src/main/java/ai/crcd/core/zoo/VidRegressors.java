package ai.crcd.core.zoo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The trainable part of VID: one {@link VidRegressor} per distilled stage ({@code layer1} .. {@code
 * layerK}), under one parent so that the loop trains them with the student's optimiser. Input: K
 * student stage features; output: K predicted teacher means.
 */
public final class VidRegressors extends AbstractBlock {

    private static final byte VERSION = 1;

    private final List<VidRegressor> layers = new ArrayList<>();

    /**
     * Creates the layers.
     *
     * @param layers one regressor per stage, in stage order
     */
    public VidRegressors(List<VidRegressor> layers) {
        super(VERSION);
        for (int i = 0; i < layers.size(); i++) {
            this.layers.add(addChildBlock("layer" + (i + 1), layers.get(i)));
        }
    }

    /**
     * Returns the layers in stage order.
     *
     * @return the regressors
     */
    public List<VidRegressor> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDList out = new NDList(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            out.add(
                    layers.get(i)
                            .forward(parameterStore, new NDList(inputs.get(i)), training)
                            .singletonOrThrow()); // (B, Ct_i, H_i, W_i)
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] out = new Shape[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            out[i] = layers.get(i).getOutputShapes(new Shape[] {inputShapes[i]})[0];
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).initialize(manager, dataType, inputShapes[i]);
        }
    }
}
