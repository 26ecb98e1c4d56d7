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
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * Attention transfer (Zagoruyko and Komodakis, ICLR 2017) as RepDistiller runs it ({@code --distill
 * attention}, {@code distiller_zoo/AT.py}): over the pairs of stage outputs ({@code feats[1:-1]},
 * zipped, so the first min(Ks, Kt) stages),
 *
 * <pre>
 * at(f)  = normalize(mean_c(f^p) viewed as (B, H*W))        (l2 per row, eps 1e-12)
 * at     = beta * sum_stages mean((at(f_s) - at(f_t))^2)    (mean over B * H * W)
 * </pre>
 *
 * where, when the heights differ, the taller map is first adaptive-average-pooled to a square of
 * the other's height ({@link AdaptiveAvgPool#matchHeights}). No parameters. Optional KD term
 * through {@link KdTerm}.
 */
public final class AtDistiller implements Distiller {

    /** The method's name and its loss term's name. */
    public static final String NAME = "at";

    private final double beta;
    private final double p;
    private final KdTerm kd;

    /**
     * Creates the distiller.
     *
     * @param beta the weight, &gt;= 0 (RepDistiller's script: 1000)
     * @param p the power of the attention map, &gt; 0 (2)
     * @param kd the optional KD term
     */
    public AtDistiller(double beta, double p, KdTerm kd) {
        if (!(beta >= 0) || Double.isInfinite(beta) || !(p > 0) || Double.isInfinite(p)) {
            throw new IllegalArgumentException(
                    NAME
                            + ": beta must be a finite number >= 0 and p > 0, got beta="
                            + beta
                            + ", p="
                            + p);
        }
        this.beta = beta;
        this.p = p;
        this.kd = kd;
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return NAME;
    }

    /**
     * Checks, when the shapes are given, that each stage pair gives attention maps of one size.
     *
     * @param manager unused
     * @param setup the output shapes (optional)
     * @throws IllegalArgumentException for a pair of equal heights and different widths
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        FeatureMaps.checkStagePairs(NAME, setup);
    }

    /**
     * Computes {@code at} (and {@code kd} when alpha &gt; 0).
     *
     * @param batch stage outputs of both networks, the student's with gradient
     * @return the terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        NDArray sum =
                FeatureMaps.sumOverStagePairs(
                        NAME,
                        batch,
                        // mean of the squared differences of the (B, H*W) attention maps
                        (fs, ft) -> attention(fs).sub(attention(ft)).square().mean());
        LossTerms terms = new LossTerms().put(NAME, Scalars.mul(sum, beta));
        return kd.addTo(terms, batch);
    }

    /**
     * RepDistiller's {@code at(f)}: {@code normalize(f.pow(p).mean(1).view(B, -1))}.
     *
     * @param f (B, C, H, W)
     * @return (B, H*W) unit rows
     */
    NDArray attention(NDArray f) {
        NDArray fp = p == 2 ? f.square() : f.pow(Scalars.of(f, p)); // (B, C, H, W)
        NDArray a = fp.mean(new int[] {1}); // (B, H, W)
        return FeatureElement.l2Normalize(a.reshape(f.getShape().get(0), -1)); // (B, H*W)
    }

    /**
     * Estimates the powered copies of every paired stage (student with gradient, teacher) and the
     * pooled maps: about {@code B * sum(3 Cs Hs Ws + 2 Ct Ht Wt)} values.
     *
     * @param setup the output shapes; 0 when absent
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        return FeatureMaps.stageBytes(setup, batchSize, 3, 2);
    }

    /**
     * Factory for {@code at}; options {@code beta} (1000), {@code p} (2), {@code alpha} (0), {@code
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
            double beta = options.getDouble("beta", 1000, 0);
            double p = options.getPositiveDouble("p", 2);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new AtDistiller(beta, p, kd);
        }
    }
}
