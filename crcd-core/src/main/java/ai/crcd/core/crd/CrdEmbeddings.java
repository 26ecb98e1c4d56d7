package ai.crcd.core.crd;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The trainable part of CRD: one {@link Embed} for the student and one for the teacher, under one
 * parent so that the loop trains both with the student's optimiser.
 *
 * <p>Input: [student pooled (B, Ds), teacher pooled (B, Dt)]. Output: [v_s (B, F), v_t (B, F)],
 * unit rows. The teacher feature should arrive detached; the teacher head itself is trained.
 */
public final class CrdEmbeddings extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Embed student;
    private final Embed teacher;

    /**
     * Creates both heads.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     * @param featDim F (128 in CRD)
     * @param seed seed of the initial weights
     */
    public CrdEmbeddings(long studentDim, long teacherDim, long featDim, long seed) {
        super(VERSION);
        SeededRandom random = new SeededRandom(seed);
        student = addChildBlock("embed_s", new Embed(studentDim, featDim, random));
        teacher = addChildBlock("embed_t", new Embed(teacherDim, featDim, random));
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDList vs = student.forward(parameterStore, new NDList(inputs.get(0)), training);
        NDList vt = teacher.forward(parameterStore, new NDList(inputs.get(1)), training);
        return new NDList(vs.singletonOrThrow(), vt.singletonOrThrow()); // (B, F) each
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
