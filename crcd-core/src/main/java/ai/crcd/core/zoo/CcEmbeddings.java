package ai.crcd.core.zoo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The trainable part of CC: {@link LinearEmbed} {@code embed_s} (student pooled feature -&gt; F)
 * and {@code embed_t} (teacher pooled feature -&gt; F), both trained, as RepDistiller's {@code
 * train_student.py} ({@code --distill correlation}).
 *
 * <p>Input: [student pooled (B, Ds), teacher pooled (B, Dt), detached]. Output: [e_s (B, F), e_t
 * (B, F)].
 */
public final class CcEmbeddings extends AbstractBlock {

    private static final byte VERSION = 1;

    private final LinearEmbed student;
    private final LinearEmbed teacher;

    /**
     * Creates both embeddings.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     * @param featDim F (RepDistiller's {@code feat_dim}, 128)
     */
    public CcEmbeddings(long studentDim, long teacherDim, long featDim) {
        super(VERSION);
        student = addChildBlock("embed_s", new LinearEmbed(studentDim, featDim));
        teacher = addChildBlock("embed_t", new LinearEmbed(teacherDim, featDim));
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDList es = student.forward(parameterStore, new NDList(inputs.get(0)), training);
        NDList et = teacher.forward(parameterStore, new NDList(inputs.get(1)), training);
        return new NDList(es.singletonOrThrow(), et.singletonOrThrow()); // (B, F) each
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {
            student.getOutputShapes(new Shape[] {inputShapes[0]})[0],
            teacher.getOutputShapes(new Shape[] {inputShapes[1]})[0]
        };
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        student.initialize(manager, dataType, inputShapes[0]);
        teacher.initialize(manager, dataType, inputShapes[1]);
    }
}
