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
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.List;

/**
 * Correlation congruence (Peng et al., ICCV 2019) as RepDistiller's {@code distiller_zoo/CC.py}
 * with the embeddings of its {@code train_student.py}: both pooled features go through a trained
 * {@code LinearEmbed} ({@link ai.crcd.core.crd.Embed#linear}) to F dims ({@link CcEmbeddings}),
 * then with {@code delta = |e_s - e_t|} (B, F)
 *
 * <pre>
 * cc = beta * mean_{i = 0..B-2} sum_f delta[i, f] * delta[i + 1, f]
 * </pre>
 *
 * <p>(consecutive samples of the batch, exactly as the reference). Term {@code cc}; with {@code
 * alpha} &gt; 0 also {@code kd} ({@link KdTerm}). A batch of one sample has no pair: the term is 0.
 */
public final class CcDistiller implements Distiller {

    private final double beta;
    private final int featDim;
    private final KdTerm kdTerm;
    private CcEmbeddings embeddings;

    private CcDistiller(Builder b) {
        this.beta = b.beta;
        this.featDim = b.featDim;
        this.kdTerm = b.kdTerm;
    }

    /**
     * Returns a builder with RepDistiller's defaults (beta 0.02, feat_dim 128, no KD).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "cc";
    }

    /** {@inheritDoc} */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        embeddings = new CcEmbeddings(setup.studentDim(), setup.teacherDim(), featDim);
        embeddings.initialize(
                manager,
                setup.dataType(),
                new Shape(1, setup.studentDim()),
                new Shape(1, setup.teacherDim()));
    }

    /** {@inheritDoc} */
    @Override
    public Block auxiliaryBlock() {
        return embeddings;
    }

    /** {@inheritDoc} */
    @Override
    public LossTerms losses(DistillBatch batch) {
        if (embeddings == null) {
            throw new IllegalStateException("cc: call initialize(...) before losses(...)");
        }
        LossTerms terms = kdTerm.addTo(new LossTerms(), batch);
        NDList e =
                embeddings.forward(
                        batch.parameterStore(),
                        new NDList(
                                batch.student().pooled(), batch.teacher().pooled().stopGradient()),
                        batch.training());
        terms.put("cc", Scalars.mul(correlation(e.get(0), e.get(1)), beta));
        return terms;
    }

    /**
     * RepDistiller's {@code Correlation.forward}: {@code mean((delta[:-1] * delta[1:]).sum(1))}
     * with {@code delta = |f_s - f_t|}.
     *
     * @param fs (B, F) student embedding
     * @param ft (B, F) teacher embedding
     * @return () the unweighted loss, 0 for B = 1
     */
    public static NDArray correlation(NDArray fs, NDArray ft) {
        long b = fs.getShape().get(0);
        NDArray delta = fs.sub(ft).abs(); // (B, F)
        if (b < 2) {
            return delta.sum().mul(Scalars.of(delta, 0)); // () no pair
        }
        NDArray prod = delta.get("0:-1").mul(delta.get("1:")); // (B-1, F)
        return prod.sum(new int[] {1}).mean(); // ()
    }

    /**
     * Estimates the step's extra memory: the embeddings and the difference chain, about 8 (B, F)
     * arrays, and the two Linear weights.
     *
     * @param setup the feature dims
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        long word = setup.dataType().getNumOfBytes();
        long params = (long) featDim * (setup.studentDim() + setup.teacherDim() + 2);
        return (8L * batchSize * featDim + 3 * params) * word;
    }

    /** Builder for {@link CcDistiller}; every setting is optional. */
    public static final class Builder {
        private double beta = 0.02;
        private int featDim = 128;
        private KdTerm kdTerm = new KdTerm(0, KdTerm.DEFAULT_TEMPERATURE);

        Builder() {}

        /**
         * Sets the weight of the CC term; default 0.02 (RepDistiller {@code -b}).
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
            return this;
        }

        /**
         * Sets the embedding size F; default 128.
         *
         * @param featDim &gt;= 1
         * @return this builder
         */
        public Builder optFeatDim(int featDim) {
            this.featDim = featDim;
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
        public CcDistiller build() {
            ZooOptions.check("cc", beta >= 0 && !Double.isInfinite(beta), "beta", beta, ">= 0");
            ZooOptions.check("cc", featDim >= 1, "feat_dim", featDim, ">= 1");
            return new CcDistiller(this);
        }
    }

    /**
     * Factory for {@code cc}; options beta (0.02), feat_dim (128), alpha (0), kd_temperature (4).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("cc");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            Builder b = builder().optKdTerm(KdTerm.fromOptions(options, 0));
            b.optBeta(options.getDouble("beta", 0.02, 0));
            b.optFeatDim(options.getInt("feat_dim", 128, 1));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
