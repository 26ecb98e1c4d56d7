package ai.crcd.core.kd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * Hinton's knowledge-distillation loss, as RepDistiller computes it and as CRCD's objective (Eq.
 * 16-17) uses it: {@code KL(softmax(t/T) || softmax(s/T)) * T^2}, summed over classes and averaged
 * over the batch. Shared by every method that adds a KD term.
 */
public final class KdLoss {

    private KdLoss() {}

    /**
     * Computes the KD loss.
     *
     * @param studentLogits (B, C), with gradient
     * @param teacherLogits (B, C), no gradient
     * @param temperature T &gt; 0 (4 in the CIFAR runs)
     * @return a scalar
     */
    public static NDArray compute(
            NDArray studentLogits, NDArray teacherLogits, double temperature) {
        return compute(studentLogits, teacherLogits, temperature, 1.0);
    }

    /**
     * Computes the KD loss times a weight, in the logits' data type.
     *
     * @param studentLogits (B, C), with gradient
     * @param teacherLogits (B, C), no gradient
     * @param temperature T &gt; 0 (4 in the CIFAR runs)
     * @param weight the factor alpha of the term
     * @return a scalar
     */
    public static NDArray compute(
            NDArray studentLogits, NDArray teacherLogits, double temperature, double weight) {
        long batch = studentLogits.getShape().get(0);
        NDArray logPs = Scalars.div(studentLogits, temperature).logSoftmax(-1); // (B, C)
        NDArray logPt = Scalars.div(teacherLogits, temperature).logSoftmax(-1); // (B, C)
        NDArray pt = logPt.exp(); // (B, C)
        // sum_c pt (log pt - log ps), then mean over the batch, times T^2. The factor is applied
        // before the sum: a 0-d array times a Java double is promoted to float64 by PyTorch.
        return Scalars.mul(pt.mul(logPt.sub(logPs)), weight * temperature * temperature / batch)
                .sum();
    }
}
