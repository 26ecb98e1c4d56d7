package ai.crcd.core.kd;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.TeacherUse;
import java.util.List;

/**
 * Hinton knowledge distillation: one term {@code kd = alpha * KL(softmax(t/T) || softmax(s/T)) T^2}
 * (batch mean), see {@link KdLoss}. No trainable auxiliary parameters, no buffers.
 */
public final class KdDistiller implements Distiller {

    private final double alpha;
    private final double temperature;

    /**
     * Creates the distiller.
     *
     * @param alpha the weight of the KD term (1.0 by default, as in CRCD's objective)
     * @param temperature T &gt; 0 (4 by default)
     */
    public KdDistiller(double alpha, double temperature) {
        if (!(alpha >= 0) || !(temperature > 0)) {
            throw new IllegalArgumentException(
                    "kd: alpha must be >= 0 and temperature > 0, got alpha="
                            + alpha
                            + ", temperature="
                            + temperature);
        }
        this.alpha = alpha;
        this.temperature = temperature;
    }

    /**
     * Returns {@code kd}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "kd";
    }

    /**
     * Returns {@link TeacherUse#LOGITS}: KD reads the teacher's logits only.
     *
     * @return LOGITS
     */
    @Override
    public TeacherUse teacherUse() {
        return TeacherUse.LOGITS;
    }

    /**
     * Computes the term {@code kd}.
     *
     * @param batch student logits (B, C) and teacher logits (B, C)
     * @return one scalar term
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        return new LossTerms()
                .put(
                        "kd",
                        KdLoss.compute(
                                batch.student().logits(),
                                batch.teacher().logits().stopGradient(),
                                temperature,
                                alpha));
    }

    /** Factory for {@code kd}; option keys {@code alpha} (1.0), {@code temperature} (4.0). */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return kd
         */
        @Override
        public List<String> names() {
            return List.of("kd");
        }

        /**
         * Creates the distiller.
         *
         * @param name kd
         * @param options alpha, temperature
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double alpha = options.getDouble("alpha", 1.0, 0);
            double t = options.getPositiveDouble("temperature", 4.0);
            options.checkNoUnknownKeys();
            return new KdDistiller(alpha, t);
        }
    }
}
