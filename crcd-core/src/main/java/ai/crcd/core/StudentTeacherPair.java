package ai.crcd.core;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Two blocks of one kind under one parent, one for the student's side and one for the teacher's
 * (CRD's and CC's embeddings, SSKD's projection heads), so that the loop trains both with the
 * student's optimiser. Forward: [student input, teacher input] to [student output, teacher output],
 * each side running on its own input. The children keep the names given (checkpoints store
 * parameters by these names).
 *
 * @param <B> the type of the two blocks
 */
public class StudentTeacherPair<B extends Block> extends AbstractBlock {

    private static final byte VERSION = 1;

    private final B student;
    private final B teacher;

    /**
     * Registers the two children.
     *
     * @param studentName the student side's child name, e.g. {@code "embed_s"}
     * @param student the student side's block
     * @param teacherName the teacher side's child name, e.g. {@code "embed_t"}
     * @param teacher the teacher side's block
     */
    protected StudentTeacherPair(String studentName, B student, String teacherName, B teacher) {
        super(VERSION);
        this.student = addChildBlock(studentName, student);
        this.teacher = addChildBlock(teacherName, teacher);
    }

    /**
     * Returns the student side's block.
     *
     * @return the block
     */
    public B studentSide() {
        return student;
    }

    /**
     * Returns the teacher side's block.
     *
     * @return the block
     */
    public B teacherSide() {
        return teacher;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDList s = student.forward(parameterStore, new NDList(inputs.get(0)), training);
        NDList t = teacher.forward(parameterStore, new NDList(inputs.get(1)), training);
        return new NDList(s.singletonOrThrow(), t.singletonOrThrow());
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
