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
 * Similarity-preserving KD (Tung and Mori, ICCV 2019) as RepDistiller runs it ({@code --distill
 * similarity}, {@code distiller_zoo/SP.py}) on the last stage output ({@code feats[-2]}):
 *
 * <pre>
 * G(f) = normalize(F F^T),  F = f viewed as (B, C*H*W)      (l2 per row, eps 1e-12)
 * sp   = beta * sum((G(f_t) - G(f_s))^2) / B^2
 * </pre>
 *
 * No parameters; the two networks' maps may differ in every axis but the batch. Optional KD term
 * through {@link KdTerm}.
 */
public final class SpDistiller implements Distiller {

    /** The method's name and its loss term's name. */
    public static final String NAME = "sp";

    private final double beta;
    private final KdTerm kd;

    /**
     * Creates the distiller.
     *
     * @param beta the weight, &gt;= 0 (RepDistiller's script: 3000)
     * @param kd the optional KD term
     */
    public SpDistiller(double beta, KdTerm kd) {
        ZooOptions.check(NAME, beta >= 0 && !Double.isInfinite(beta), "beta", beta, ">= 0");
        this.beta = beta;
        this.kd = kd;
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return NAME;
    }

    /**
     * Computes {@code sp} (and {@code kd} when alpha &gt; 0).
     *
     * @param batch the last stage output of both networks, the student's with gradient
     * @return the terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        NDArray gs = gram(last(batch.student().stages())); // (B, B)
        NDArray gt = gram(last(batch.teacher().stages()).stopGradient()); // (B, B)
        long b = gs.getShape().get(0);
        NDArray d = gt.sub(gs); // (B, B)
        NDArray loss = Scalars.div(d.square().sum(), (double) (b * b)); // ()
        LossTerms terms = new LossTerms().put(NAME, Scalars.mul(loss, beta));
        return kd.addTo(terms, batch);
    }

    private static NDArray last(List<NDArray> stages) {
        if (stages.isEmpty()) {
            throw new IllegalStateException(NAME + ": the networks return no stage outputs");
        }
        return stages.get(stages.size() - 1);
    }

    /**
     * The row-normalised Gram matrix of a batch of maps.
     *
     * @param f (B, C, H, W)
     * @return (B, B)
     */
    private static NDArray gram(NDArray f) {
        NDArray flat = f.reshape(f.getShape().get(0), -1); // (B, C*H*W)
        return FeatureElement.l2Normalize(flat.matMul(flat.transpose())); // (B, B)
    }

    /**
     * Estimates the B x B Gram matrices, normalised copies, difference and gradients (about 8 B^2
     * values); the flattened maps are views.
     *
     * @param setup the data type
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        return 8L * batchSize * batchSize * setup.dataType().getNumOfBytes();
    }

    /**
     * Factory for {@code sp}; options {@code beta} (3000), {@code alpha} (0), {@code
     * kd_temperature} (4).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of(NAME);
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double beta = options.getDouble("beta", 3000, 0);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new SpDistiller(beta, kd);
        }
    }
}
