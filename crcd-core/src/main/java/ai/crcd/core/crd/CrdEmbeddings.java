package ai.crcd.core.crd;

import ai.crcd.core.StudentTeacherPair;

/**
 * The trainable part of CRD: one {@link Embed} for the student and one for the teacher, under one
 * parent so that the loop trains both with the student's optimiser.
 *
 * <p>Input: [student pooled (B, Ds), teacher pooled (B, Dt)]. Output: [v_s (B, F), v_t (B, F)],
 * unit rows. The teacher feature should arrive detached; the teacher head itself is trained.
 */
public final class CrdEmbeddings extends StudentTeacherPair<Embed> {

    /**
     * Creates both heads.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     * @param featDim F (128 in CRD)
     * @param seed seed of the initial weights
     */
    public CrdEmbeddings(long studentDim, long teacherDim, long featDim, long seed) {
        this(studentDim, teacherDim, featDim, new SeededRandom(seed));
    }

    private CrdEmbeddings(long studentDim, long teacherDim, long featDim, SeededRandom random) {
        // the student's head draws first, then the teacher's, from one generator
        super(
                "embed_s",
                new Embed(studentDim, featDim, random),
                "embed_t",
                new Embed(teacherDim, featDim, random));
    }
}
