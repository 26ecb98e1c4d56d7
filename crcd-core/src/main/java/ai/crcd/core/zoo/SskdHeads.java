package ai.crcd.core.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The trainable part of SSKD, SSKD's two {@code proj_head}s under one parent: the student's (Ds
 * -&gt; Ds -&gt; Ds, trained with the student in the main stage) and the teacher's (Dt -&gt; Dt
 * -&gt; Dt, trained alone in the teacher's self-supervision stage, then frozen). Forward: [student
 * pooled (N, Ds), teacher pooled (N, Dt)] to [z_s (N, Ds), z_t (N, Dt)].
 */
public final class SskdHeads extends AbstractBlock {

    private static final byte VERSION = 1;

    private final SskdProjectionHead student;
    private final SskdProjectionHead teacher;

    /**
     * Creates both heads.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     */
    public SskdHeads(long studentDim, long teacherDim) {
        super(VERSION);
        student = addChildBlock("student_head", new SskdProjectionHead(studentDim));
        teacher = addChildBlock("teacher_head", new SskdProjectionHead(teacherDim));
    }

    /**
     * Returns the student's head.
     *
     * @return the head
     */
    public SskdProjectionHead studentHead() {
        return student;
    }

    /**
     * Returns the teacher's head.
     *
     * @return the head
     */
    public SskdProjectionHead teacherHead() {
        return teacher;
    }

    /**
     * Runs the student's head.
     *
     * @param ps the parameter store
     * @param pooled (N, Ds)
     * @param training whether training
     * @return (N, Ds)
     */
    public NDArray student(ParameterStore ps, NDArray pooled, boolean training) {
        return student.forward(ps, new NDList(pooled), training).singletonOrThrow();
    }

    /**
     * Runs the teacher's head.
     *
     * @param ps the parameter store
     * @param pooled (N, Dt), detached
     * @param training whether training
     * @return (N, Dt)
     */
    public NDArray teacher(ParameterStore ps, NDArray pooled, boolean training) {
        return teacher.forward(ps, new NDList(pooled), training).singletonOrThrow();
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(
                student(ps, inputs.get(0), training), teacher(ps, inputs.get(1), training));
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
