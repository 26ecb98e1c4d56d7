package ai.crcd.core.zoo;

import ai.crcd.core.StudentTeacherPair;
import ai.crcd.core.crd.Embed;

/**
 * The trainable part of CC: RepDistiller's {@code LinearEmbed} ({@link Embed#linear}) {@code
 * embed_s} (student pooled feature -&gt; F) and {@code embed_t} (teacher pooled feature -&gt; F),
 * both trained, as RepDistiller's {@code train_student.py} ({@code --distill correlation}).
 *
 * <p>Input: [student pooled (B, Ds), teacher pooled (B, Dt), detached]. Output: [e_s (B, F), e_t
 * (B, F)].
 */
public final class CcEmbeddings extends StudentTeacherPair<Embed> {

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
                Embed.linear(studentDim, featDim),
                "embed_t",
                Embed.linear(teacherDim, featDim));
    }
}
