package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.TeacherUse;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.List;

/**
 * Decoupled knowledge distillation (DKD, Zhao et al., CVPR 2022), exactly as mdistiller's {@code
 * mdistiller/distillers/DKD.py}: with {@code p = softmax(z / T)}, {@code g} the one-hot mask of the
 * true class and {@code b = [sum(p g), sum(p (1 - g))]} the binary (target / non-target) split,
 *
 * <pre>
 * tckd = KL(b_t || b_s) T^2 / B                                   (log of the summed probabilities)
 * nckd = KL(softmax(z_t/T - 1000 g) || softmax(z_s/T - 1000 g)) T^2 / B   (the true class masked)
 * dkd  = min(epoch / warmup, 1) * (alpha * tckd + beta * nckd)
 * </pre>
 *
 * with mdistiller's 1-based epoch ({@link DistillBatch#epoch()}). KL is PyTorch's {@code kl_div}
 * ({@code xlogy(p, p) - p log q}: a teacher probability of exactly 0 adds 0). Two terms: {@code
 * dkd_tckd} and {@code dkd_nckd}, each already multiplied by its weight and the warm-up factor. No
 * trainable parameters and no buffers. DKD has no separate "+KD" variant (it replaces KD).
 */
public final class DkdDistiller implements Distiller {

    /** mdistiller's {@code DKD.ALPHA}. */
    public static final double DEFAULT_ALPHA = 1.0;

    /** mdistiller's {@code DKD.BETA} (the CIFAR-100 configs lower it for some pairs). */
    public static final double DEFAULT_BETA = 8.0;

    /** mdistiller's {@code DKD.T}. */
    public static final double DEFAULT_TEMPERATURE = 4.0;

    /** mdistiller's {@code DKD.WARMUP}, in epochs. */
    public static final int DEFAULT_WARMUP = 20;

    /** The logit offset that masks the true class out of the non-target softmax (mdistiller's). */
    static final double MASK_OFFSET = 1000.0;

    private final double alpha;
    private final double beta;
    private final double temperature;
    private final int warmup;

    /**
     * Creates the distiller.
     *
     * @param alpha weight of TCKD, &gt;= 0 (1.0)
     * @param beta weight of NCKD, &gt;= 0 (8.0)
     * @param temperature T &gt; 0 (4.0)
     * @param warmup epochs of the linear warm-up, &gt;= 1 (20; 1 = no warm-up)
     */
    public DkdDistiller(double alpha, double beta, double temperature, int warmup) {
        if (!(alpha >= 0)
                || !(beta >= 0)
                || Double.isInfinite(alpha)
                || Double.isInfinite(beta)
                || !(temperature > 0)
                || Double.isInfinite(temperature)
                || warmup < 1) {
            throw new IllegalArgumentException(
                    "dkd: alpha and beta must be finite numbers >= 0, temperature > 0 and warmup"
                            + " >= 1, got alpha="
                            + alpha
                            + ", beta="
                            + beta
                            + ", temperature="
                            + temperature
                            + ", warmup="
                            + warmup);
        }
        this.alpha = alpha;
        this.beta = beta;
        this.temperature = temperature;
        this.warmup = warmup;
    }

    /**
     * Returns {@code dkd}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "dkd";
    }

    /**
     * Returns {@link TeacherUse#LOGITS}: DKD reads the teacher's logits only.
     *
     * @return LOGITS
     */
    @Override
    public TeacherUse teacherUse() {
        return TeacherUse.LOGITS;
    }

    /**
     * Returns mdistiller's warm-up factor {@code min(epoch / warmup, 1)}.
     *
     * @param epoch the 1-based epoch
     * @return the factor in (0, 1]
     */
    public double warmupFactor(int epoch) {
        return Math.min((double) epoch / warmup, 1.0);
    }

    /**
     * Computes {@code dkd_tckd} and {@code dkd_nckd}.
     *
     * @param batch student logits (B, C) with gradient, teacher logits (B, C), labels (B), epoch
     * @return two scalar terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        NDArray zs = batch.student().logits(); // (B, C)
        NDArray zt = batch.teacher().logits().stopGradient(); // (B, C)
        long b = zs.getShape().get(0);
        int classes = Math.toIntExact(zs.getShape().get(1));
        NDArray gt = batch.labels().oneHot(classes).toType(zs.getDataType(), false); // (B, C)
        NDArray other = gt.neg().add(1); // (B, C)
        NDArray ss = Scalars.div(zs, temperature); // (B, C)
        NDArray st = Scalars.div(zt, temperature); // (B, C)
        double factor = warmupFactor(batch.epoch()) * temperature * temperature / b;

        // TCKD: KL between the binary distributions [p_gt, p_other] (cat_mask, then log)
        NDArray ps = ss.softmax(1); // (B, C)
        NDArray pt = st.softmax(1); // (B, C)
        NDArray bs = catMask(ps, gt, other); // (B, 2)
        NDArray bt = catMask(pt, gt, other); // (B, 2)
        // F.kl_div(log bs, bt) = sum xlogy(bt, bt) - bt log bs: a teacher probability of exactly
        // 0 (a confident teacher in float32) contributes 0, not 0 * log 0 = NaN
        NDArray tLogT = NDArrays.where(bt.gt(0), bt.mul(bt.log()), bt.zerosLike()); // (B, 2)
        NDArray tckd = tLogT.sub(bt.mul(bs.log())).sum(); // ()

        // NCKD: the true class pushed down by 1000 logits before the softmax
        NDArray mask = Scalars.mul(gt, MASK_OFFSET); // (B, C), constant
        NDArray logQt = st.sub(mask).logSoftmax(1); // (B, C)
        NDArray logQs = ss.sub(mask).logSoftmax(1); // (B, C)
        NDArray nckd = logQt.exp().mul(logQt.sub(logQs)).sum(); // ()

        return new LossTerms()
                .put("dkd_tckd", Scalars.mul(tckd, alpha * factor))
                .put("dkd_nckd", Scalars.mul(nckd, beta * factor));
    }

    /**
     * mdistiller's {@code cat_mask}: the probability of the true class and the sum of the others.
     *
     * @param p (B, C) probabilities
     * @param gt (B, C) one-hot of the true class
     * @param other (B, C) its complement
     * @return (B, 2)
     */
    private static NDArray catMask(NDArray p, NDArray gt, NDArray other) {
        NDArray t1 = p.mul(gt).sum(new int[] {1}, true); // (B, 1)
        NDArray t2 = p.mul(other).sum(new int[] {1}, true); // (B, 1)
        return NDArrays.concat(new NDList(t1, t2), 1); // (B, 2)
    }

    /**
     * Factory for {@code dkd}; options {@code alpha} (TCKD weight, 1.0), {@code beta} (NCKD weight,
     * 8.0), {@code temperature} (4.0), {@code warmup} (epochs, 20).
     */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return dkd
         */
        @Override
        public List<String> names() {
            return List.of("dkd");
        }

        /**
         * Creates the distiller.
         *
         * @param name dkd
         * @param options alpha, beta, temperature, warmup
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double alpha = options.getDouble("alpha", DEFAULT_ALPHA, 0);
            double beta = options.getDouble("beta", DEFAULT_BETA, 0);
            double t = options.getPositiveDouble("temperature", DEFAULT_TEMPERATURE);
            int warmup = options.getInt("warmup", DEFAULT_WARMUP, 1);
            options.checkNoUnknownKeys();
            return new DkdDistiller(alpha, beta, t, warmup);
        }
    }
}
