package ai.crcd.core.zoo;

import ai.crcd.core.StudentTeacherPair;

/**
 * The trainable part of CC: {@link LinearEmbed} {@code embed_s} (student pooled feature -&gt; F)
 * and {@code embed_t} (teacher pooled feature -&gt; F), both trained, as RepDistiller's {@code
 * train_student.py} ({@code --distill correlation}).
 *
 * <p>Input: [student pooled (B, Ds), teacher pooled (B, Dt), detached]. Output: [e_s (B, F), e_t
 * (B, F)].
 */
public final class CcEmbeddings extends StudentTeacherPair<LinearEmbed> {

    /**
     * Creates both embeddings.
     *
     * @param studentDim Ds
     * @param teacherDim Dt
     * @param featDim F (RepDistiller's {@code feat_dim}, 128)
     */
    public CcEmbeddings(long studentDim, long teacherDim, long featDim) {
        super(
                "embed_s",
                new LinearEmbed(studentDim, featDim),
                "embed_t",
                new LinearEmbed(teacherDim, featDim));
    }
}
