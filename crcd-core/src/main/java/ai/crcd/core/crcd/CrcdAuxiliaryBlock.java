package ai.crcd.core.crcd;

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
 * The one parent block of all trainable CRCD parameters ({@link CrcdDistiller#auxiliaryBlock()}):
 * one {@link RelationContrastBlock} per element, named {@code feature} and/or {@code gradient},
 * each with its own M^T, M^{T,S} and critics. Put it under one parent with the student so that one
 * optimiser trains both.
 *
 * <p>The forward pass runs the elements in order on consecutive triples of arrays.
 */
public class CrcdAuxiliaryBlock extends AbstractBlock {

    private final List<RelationContrastBlock> elements = new ArrayList<>();

    /**
     * Creates the parent block.
     *
     * @param names the element names, in order (e.g. {@code ["feature", "gradient"]})
     * @param blocks one block per name
     */
    public CrcdAuxiliaryBlock(List<String> names, List<RelationContrastBlock> blocks) {
        if (names.size() != blocks.size() || names.isEmpty()) {
            throw new IllegalArgumentException(
                    "CrcdAuxiliaryBlock needs one block per element name, got "
                            + names.size()
                            + " names and "
                            + blocks.size()
                            + " blocks");
        }
        for (int i = 0; i < names.size(); i++) {
            elements.add(addChildBlock(names.get(i), blocks.get(i)));
        }
    }

    /**
     * Returns the element blocks in order.
     *
     * @return the blocks
     */
    public List<RelationContrastBlock> elements() {
        return Collections.unmodifiableList(elements);
    }

    /**
     * Forward pass.
     *
     * @param ps the parameter store
     * @param inputs per element, in order: teacher (B, Dt), student (B, Ds), negatives (N, Ds)
     * @param training whether training
     * @param params unused
     * @return per element, in order: u (B, B, C), v+ (B, B, C), v- (B, N, C)
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() != 3 * elements.size()) {
            throw new IllegalArgumentException(
                    "CrcdAuxiliaryBlock with "
                            + elements.size()
                            + " element(s) takes "
                            + 3 * elements.size()
                            + " arrays, got "
                            + inputs.size());
        }
        NDList out = new NDList();
        for (int e = 0; e < elements.size(); e++) {
            NDList part = new NDList(inputs.subList(3 * e, 3 * e + 3));
            out.addAll(elements.get(e).forward(ps, part, training));
        }
        return out;
    }

    /**
     * Returns the output shapes.
     *
     * @param inputShapes per element [(B, Dt), (B, Ds), (N, Ds)]
     * @return per element [(B, B, C), (B, B, C), (B, N, C)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        List<Shape> out = new ArrayList<>();
        for (int e = 0; e < elements.size(); e++) {
            Shape[] in = {inputShapes[3 * e], inputShapes[3 * e + 1], inputShapes[3 * e + 2]};
            Collections.addAll(out, elements.get(e).getOutputShapes(in));
        }
        return out.toArray(new Shape[0]);
    }

    /**
     * Initialises every element block.
     *
     * @param manager the manager
     * @param dataType the data type
     * @param inputShapes per element [(B, Dt), (B, Ds), (N, Ds)]
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        for (int e = 0; e < elements.size(); e++) {
            elements.get(e)
                    .initialize(
                            manager,
                            dataType,
                            inputShapes[3 * e],
                            inputShapes[3 * e + 1],
                            inputShapes[3 * e + 2]);
        }
    }
}
