package ai.crcd.core.kd;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;

/**
 * The optional Hinton KD term that any method adds on top of its own objective ("+KD" in the CRCD
 * paper, RepDistiller's {@code -a}): {@code alpha * KL(softmax(t/T) || softmax(s/T)) T^2}. One
 * definition of its options for every method that offers it: {@code alpha} (the weight, 0 leaves
 * the term out) and {@code kd_temperature} (T, 4 as in RepDistiller's CIFAR runs).
 *
 * @param alpha the weight, &gt;= 0; 0 means no KD term
 * @param temperature T &gt; 0
 */
public record KdTerm(double alpha, double temperature) {

    /** RepDistiller's KD temperature for CIFAR-100. */
    public static final double DEFAULT_TEMPERATURE = 4.0;

    /**
     * Checks the values.
     *
     * @param alpha the weight, &gt;= 0
     * @param temperature T &gt; 0
     */
    public KdTerm {
        if (!(alpha >= 0) || !(temperature > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException(
                    "KD term: alpha must be a finite number >= 0 and kd_temperature > 0, got alpha="
                            + alpha
                            + ", kd_temperature="
                            + temperature);
        }
    }

    /**
     * Reads {@code alpha} and {@code kd_temperature} from a method's options.
     *
     * @param options the method's options; the two keys are consumed
     * @param defaultAlpha the weight when {@code alpha} is absent (0 for a method alone)
     * @return the term
     */
    public static KdTerm fromOptions(DistillerOptions options, double defaultAlpha) {
        double alpha = options.getDouble("alpha", defaultAlpha, 0);
        double t = options.getPositiveDouble("kd_temperature", DEFAULT_TEMPERATURE);
        return new KdTerm(alpha, t);
    }

    /**
     * Whether the term is used (alpha &gt; 0).
     *
     * @return true when the term is added
     */
    public boolean enabled() {
        return alpha > 0;
    }

    /**
     * Adds the term {@code kd} to {@code terms} when enabled.
     *
     * @param terms the method's terms
     * @param batch student logits (B, C) with gradient, teacher logits (B, C); with several views
     *     of each image ({@link DistillBatch#views()}) the term uses the originals' rows only
     * @return {@code terms}
     */
    public LossTerms addTo(LossTerms terms, DistillBatch batch) {
        if (enabled()) {
            terms.put(
                    "kd",
                    KdLoss.compute(
                            batch.originals(batch.student().logits()),
                            batch.originals(batch.teacher().logits()).stopGradient(),
                            temperature,
                            alpha));
        }
        return terms;
    }
}
