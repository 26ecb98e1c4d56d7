package ai.crcd.core.zoo;

import ai.crcd.core.StudentTeacherPair;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;

/**
 * The trainable part of SSKD, SSKD's two {@code proj_head}s under one parent: the student's (Ds
 * -&gt; Ds -&gt; Ds, trained with the student in the main stage) and the teacher's (Dt -&gt; Dt
 * -&gt; Dt, trained alone in the teacher's self-supervision stage, then frozen). Forward: [student
 * pooled (N, Ds), teacher pooled (N, Dt)] to [z_s (N, Ds), z_t (N, Dt)].
 */
public final class SskdHeads extends StudentTeacherPair<SskdProjectionHead> {

    /**
     * Creates both heads.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     */
    public SskdHeads(long studentDim, long teacherDim) {
        super(
                "student_head",
                new SskdProjectionHead(studentDim),
                "teacher_head",
                new SskdProjectionHead(teacherDim));
    }

    /**
     * Returns the student's head.
     *
     * @return the head
     */
    public SskdProjectionHead studentHead() {
        return studentSide();
    }

    /**
     * Returns the teacher's head.
     *
     * @return the head
     */
    public SskdProjectionHead teacherHead() {
        return teacherSide();
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
        return studentSide().forward(ps, new NDList(pooled), training).singletonOrThrow();
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
        return teacherSide().forward(ps, new NDList(pooled), training).singletonOrThrow();
    }
}
