package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.kd.KdTerm;
import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Probabilistic knowledge transfer (Passalis and Tefas, ECCV 2018) as RepDistiller's {@code
 * distiller_zoo/PKT.py} ({@code cosine_similarity_loss}, eps 1e-7), on the pooled features:
 *
 * <pre>
 * x_i = s_i / (|s_i| + eps)                 (same for the teacher)
 * S[i, j] = (x_i . x_j + 1) / 2             (B, B), cosine similarity mapped to [0, 1]
 * P[i, j] = S[i, j] / sum_k S[i, k]         row-normalised, P_s and P_t
 * pkt = beta * mean_{i, j} P_t[i, j] * log((P_t[i, j] + eps) / (P_s[i, j] + eps))
 * </pre>
 *
 * <p>Term {@code pkt}; with {@code alpha} &gt; 0 also {@code kd}. The norm is torch's vector norm:
 * same value as the reference's {@code sqrt(sum(x^2))}, but a zero gradient instead of NaN for an
 * all-zero row (whose normalised row is 0 in both). The reference's NaN-to-0 replacement cannot
 * trigger with eps &gt; 0 and finite input, so it is left out.
 */
public final class PktDistiller implements Distiller {

    /** The reference's eps, in the norm and in the KL. */
    public static final double EPS = 1e-7;

    private final double beta;
    private final KdTerm kdTerm;

    private PktDistiller(Builder b) {
        this.beta = b.beta;
        this.kdTerm = b.kdTerm;
    }

    /**
     * Returns a builder with RepDistiller's defaults (beta 30000, no KD).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "pkt";
    }

    /** {@inheritDoc} */
    @Override
    public LossTerms losses(DistillBatch batch) {
        LossTerms terms = kdTerm.addTo(new LossTerms(), batch);
        NDArray loss = loss(batch.student().pooled(), batch.teacher().pooled().stopGradient());
        terms.put("pkt", Scalars.mul(loss, beta));
        return terms;
    }

    /**
     * The unweighted loss, RepDistiller's {@code PKT.cosine_similarity_loss(f_s, f_t)}.
     *
     * @param fs (B, Ds) student feature
     * @param ft (B, Dt) teacher feature
     * @return ()
     */
    public static NDArray loss(NDArray fs, NDArray ft) {
        NDArray ps = probabilities(fs); // (B, B)
        NDArray pt = probabilities(ft); // (B, B)
        NDArray ratio = pt.add(EPS).div(ps.add(EPS)); // (B, B)
        return pt.mul(ratio.log()).mean(); // ()
    }

    private static NDArray probabilities(NDArray f) {
        NDArray norm = f.norm(new int[] {1}, true); // (B, 1)
        NDArray x = f.div(norm.add(EPS)); // (B, D)
        NDArray sim = x.matMul(x.transpose()).add(1.0); // (B, B)
        sim = Scalars.div(sim, 2.0);
        return sim.div(sim.sum(new int[] {1}, true)); // (B, B) rows sum to 1
    }

    /**
     * Estimates the step's extra memory: about 12 B x B arrays (both sides' similarities and the KL
     * chain) and the normalised features.
     *
     * @param setup the feature dims
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        long b = batchSize;
        long word = setup.dataType().getNumOfBytes();
        return (12 * b * b + 2 * b * (setup.studentDim() + (long) setup.teacherDim())) * word;
    }

    /** Builder for {@link PktDistiller}; every setting is optional. */
    public static final class Builder {
        private double beta = 30000;
        private KdTerm kdTerm = new KdTerm(0, KdTerm.DEFAULT_TEMPERATURE);

        Builder() {}

        /**
         * Sets the weight; default 30000 (RepDistiller {@code -b}).
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
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
        public PktDistiller build() {
            ZooOptions.check("pkt", beta >= 0 && !Double.isInfinite(beta), "beta", beta, ">= 0");
            return new PktDistiller(this);
        }
    }

    /** Factory for {@code pkt}; options beta (30000), alpha (0), kd_temperature (4). */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("pkt");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            Builder b = builder().optKdTerm(KdTerm.fromOptions(options, 0));
            b.optBeta(options.getDouble("beta", 30000, 0));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
