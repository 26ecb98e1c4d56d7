package ai.crcd.core;

/**
 * What a {@link Distiller} needs from the teacher in a training step ({@link
 * Distiller#teacherUse()}), so that the step computes no more than that.
 *
 * <ul>
 *   <li>{@link #NONE}: nothing; the step does not run the teacher at all, and, having no teacher
 *       output to give, does not call the method's {@code losses} or {@code afterStep} (the step is
 *       the student's cross-entropy alone; e.g. {@code vanilla}).
 *   <li>{@link #LOGITS}: the teacher's logits only (e.g. {@code kd}). The step still runs the whole
 *       teacher (a crcd network computes its features on the way to the logits), but a method
 *       declaring LOGITS must not read the features, so that a network able to stop early may.
 *   <li>{@link #FEATURES}: logits and features (pooled, stem, stages): every other method; the
 *       default.
 * </ul>
 */
public enum TeacherUse {
    /** The method does not use the teacher: the step never runs it. */
    NONE,
    /** The method reads the teacher's logits only. */
    LOGITS,
    /** The method reads the teacher's logits and features (the default). */
    FEATURES
}
