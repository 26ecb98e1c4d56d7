package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.crcd.FeatureElement;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Relational knowledge distillation (Park et al., CVPR 2019) as RepDistiller's {@code
 * distiller_zoo/RKD.py}, on the pooled features s (B, Ds) and t (B, Dt):
 *
 * <pre>
 * pdist(e)[i, j] = sqrt(max(|e_i|^2 + |e_j|^2 - 2 e_i.e_j, 1e-12)), 0 on the diagonal
 * d = pdist(s) / mean(pdist(s) &gt; 0),  t_d likewise (teacher, no gradient)
 * rkd_distance = beta * w_d * smoothL1(d, t_d)                       (mean over B x B)
 * n[i, j] = normalize(e_j - e_i)   (F.normalize: / max(|.|, 1e-12))
 * angle[i, j, k] = n[i, j] . n[i, k]
 * rkd_angle = beta * w_a * smoothL1(angle_s, angle_t)                (mean over B x B x B)
 * </pre>
 *
 * <p>smoothL1 is PyTorch's with beta 1: 0.5 x^2 for |x| &lt; 1, |x| - 0.5 otherwise. Two terms,
 * {@code rkd_distance} and {@code rkd_angle}, each already weighted (their sum is RepDistiller's
 * {@code beta * RKDLoss}); with {@code alpha} &gt; 0 also {@code kd}.
 */
public final class RkdDistiller implements Distiller {

    /** RepDistiller's clamp inside {@code pdist}. */
    public static final double PDIST_EPS = 1e-12;

    private final double beta;
    private final double distanceWeight;
    private final double angleWeight;
    private final KdTerm kdTerm;

    private RkdDistiller(Builder b) {
        this.beta = b.beta;
        this.distanceWeight = b.distanceWeight;
        this.angleWeight = b.angleWeight;
        this.kdTerm = b.kdTerm;
    }

    /**
     * Returns a builder with RepDistiller's defaults (beta 1, distance 25, angle 50, no KD).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "rkd";
    }

    /** {@inheritDoc} */
    @Override
    public LossTerms losses(DistillBatch batch) {
        LossTerms terms = kdTerm.addTo(new LossTerms(), batch);
        NDArray s = flat(batch.student().pooled()); // (B, Ds)
        NDArray t = flat(batch.teacher().pooled().stopGradient()); // (B, Dt)
        if (distanceWeight > 0) {
            NDArray loss = smoothL1(normalisedDistances(s), normalisedDistances(t));
            terms.put("rkd_distance", Scalars.mul(loss, beta * distanceWeight));
        }
        if (angleWeight > 0) {
            NDArray loss = smoothL1(angles(s), angles(t));
            terms.put("rkd_angle", Scalars.mul(loss, beta * angleWeight));
        }
        return terms;
    }

    private static NDArray flat(NDArray x) {
        return x.getShape().dimension() == 2 ? x : x.reshape(x.getShape().get(0), -1);
    }

    /**
     * RepDistiller's {@code pdist(e, squared=False)}: Euclidean distances with the squared distance
     * clamped at 1e-12, the diagonal set to 0 (and no gradient through it).
     *
     * @param e (B, D)
     * @return (B, B)
     */
    public static NDArray pdist(NDArray e) {
        long b = e.getShape().get(0);
        NDArray square = e.square().sum(new int[] {1}); // (B)
        NDArray prod = e.matMul(e.transpose()); // (B, B)
        NDArray res =
                square.expandDims(1).add(square.expandDims(0)).sub(Scalars.mul(prod, 2)); // (B, B)
        NDArray dist = Scalars.maximum(res, PDIST_EPS).sqrt(); // (B, B)
        NDArray offDiagonal =
                e.getManager().eye((int) b).toType(e.getDataType(), false).neg().add(1); // (B, B)
        return dist.mul(offDiagonal); // (B, B), 0 on the diagonal
    }

    /**
     * The distances divided by the mean of the positive ones ({@code d / d[d > 0].mean()}).
     *
     * @param e (B, D)
     * @return (B, B)
     */
    public static NDArray normalisedDistances(NDArray e) {
        NDArray d = pdist(e); // (B, B)
        // sum over all / count of positives = mean of positives (the zeros add nothing)
        NDArray count = d.gt(0).toType(d.getDataType(), false).sum(); // () no gradient
        NDArray mean = d.sum().div(count); // ()
        return d.div(mean); // (B, B)
    }

    /**
     * The angle tensor {@code bmm(n, n^T)}, {@code n[i, j] = normalize(e_j - e_i)}.
     *
     * @param e (B, D)
     * @return (B, B, B)
     */
    public static NDArray angles(NDArray e) {
        NDArray diff = e.expandDims(0).sub(e.expandDims(1)); // (B, B, D): [i, j] = e_j - e_i
        NDArray n = FeatureElement.l2Normalize(diff); // (B, B, D)
        return n.matMul(n.transpose(0, 2, 1)); // (B, B, B)
    }

    /**
     * PyTorch's {@code F.smooth_l1_loss(x, y)} (beta 1, mean): {@code 0.5 m^2 + (|x - y| - m)} with
     * {@code m = min(|x - y|, 1)}.
     *
     * @param x (...) with gradient
     * @param y (...) the target
     * @return () the mean
     */
    public static NDArray smoothL1(NDArray x, NDArray y) {
        NDArray a = x.sub(y).abs(); // (...)
        NDArray m = Scalars.minimum(a, 1.0); // (...)
        return Scalars.mul(m.square(), 0.5).add(a.sub(m)).mean(); // ()
    }

    /**
     * Estimates the step's extra memory: for the angle term, per side the B x B x D differences and
     * their normalised copies (x3 with the norm chain), and about 8 B x B x B arrays (the two angle
     * tensors and the smooth-L1 chain with its backward); about 16 B x B distance arrays.
     *
     * @param setup the feature dims
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        double b = batchSize;
        double word = setup.dataType().getNumOfBytes();
        double angle =
                angleWeight > 0
                        ? 3 * b * b * (setup.studentDim() + (double) setup.teacherDim())
                                + 8 * b * b * b
                        : 0;
        double total =
                (angle + 16 * b * b + 2 * b * (setup.studentDim() + setup.teacherDim())) * word;
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    /** Builder for {@link RkdDistiller}; every setting is optional. */
    public static final class Builder {
        private double beta = 1;
        private double distanceWeight = 25;
        private double angleWeight = 50;
        private KdTerm kdTerm = new KdTerm(0, KdTerm.DEFAULT_TEMPERATURE);

        Builder() {}

        /**
         * Sets the overall weight; default 1 (RepDistiller {@code -b}).
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
            return this;
        }

        /**
         * Sets the distance weight w_d; default 25 ({@code RKDLoss(w_d=25)}); 0 leaves the term
         * out.
         *
         * @param distanceWeight &gt;= 0
         * @return this builder
         */
        public Builder optDistanceWeight(double distanceWeight) {
            this.distanceWeight = distanceWeight;
            return this;
        }

        /**
         * Sets the angle weight w_a; default 50 ({@code RKDLoss(w_a=50)}); 0 leaves the term out
         * (and its B x B x B tensors).
         *
         * @param angleWeight &gt;= 0
         * @return this builder
         */
        public Builder optAngleWeight(double angleWeight) {
            this.angleWeight = angleWeight;
            return this;
        }

        /**
         * Sets the optional KD term; default none (alpha 0).
         *
         * @param kdTerm the term
         * @return this builder
         */
        public Builder optKdTerm(KdTerm kdTerm) {
            this.kdTerm = kdTerm;
            return this;
        }

        /**
         * Builds the distiller.
         *
         * @return the distiller
         * @throws IllegalArgumentException naming the option out of range
         */
        public RkdDistiller build() {
            ZooOptions.check("rkd", finite(beta), "beta", beta, ">= 0");
            ZooOptions.check(
                    "rkd", finite(distanceWeight), "distance_weight", distanceWeight, ">= 0");
            ZooOptions.check("rkd", finite(angleWeight), "angle_weight", angleWeight, ">= 0");
            return new RkdDistiller(this);
        }

        private static boolean finite(double v) {
            return v >= 0 && !Double.isInfinite(v);
        }
    }

    /**
     * Factory for {@code rkd}; options beta (1), distance_weight (25), angle_weight (50), alpha
     * (0), kd_temperature (4).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("rkd");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            Builder b = builder().optKdTerm(KdTerm.fromOptions(options, 0));
            b.optBeta(options.getDouble("beta", 1, 0));
            b.optDistanceWeight(options.getDouble("distance_weight", 25, 0));
            b.optAngleWeight(options.getDouble("angle_weight", 50, 0));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
