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
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Neuron selectivity transfer (Huang and Wang, 2017) as RepDistiller runs it ({@code --distill
 * nst}, {@code distiller_zoo/NST.py}, {@code full_loss = True}): over the zipped pairs of stage
 * outputs ({@code feats[1:-1]}), after RepDistiller's pooling when the heights differ ({@link
 * AdaptiveAvgPool#matchHeights}),
 *
 * <pre>
 * F      = f viewed as (B, C, H*W), each channel's row l2-normalised (eps 1e-12)
 * k(a,b) = mean over (batch, i, j) of (a_i . b_j)^2            (polynomial kernel, d = 2, c = 0)
 * nst    = beta * sum_stages [ k(F_t, F_t) + k(F_s, F_s) - 2 k(F_s, F_t) ]
 * </pre>
 *
 * The teacher-teacher term is a constant (detached in the reference) that keeps the value an MMD.
 * No parameters. Optional KD term through {@link KdTerm}.
 */
public final class NstDistiller implements Distiller {

    /** The method's name and its loss term's name. */
    public static final String NAME = "nst";

    private final double beta;
    private final KdTerm kd;

    /**
     * Creates the distiller.
     *
     * @param beta the weight, &gt;= 0 (RepDistiller's script: 50)
     * @param kd the optional KD term
     */
    public NstDistiller(double beta, KdTerm kd) {
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
     * Checks, when the shapes are given, that each stage pair has one spatial size after pooling.
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
     * Computes {@code nst} (and {@code kd} when alpha &gt; 0).
     *
     * @param batch stage outputs of both networks, the student's with gradient
     * @return the terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        NDArray sum = FeatureMaps.sumOverStagePairs(NAME, batch, NstDistiller::mmd);
        LossTerms terms = new LossTerms().put(NAME, Scalars.mul(sum, beta));
        return kd.addTo(terms, batch);
    }

    /**
     * RepDistiller's polynomial-kernel MMD of one stage pair (full loss): {@code k(t, t) + k(s, s)
     * - 2 k(s, t)}.
     *
     * @param student (B, Cs, H, W)
     * @param teacher (B, Ct, H, W), same H and W
     * @return ()
     */
    private static NDArray mmd(NDArray student, NDArray teacher) {
        NDArray fs = channelRows(student); // (B, Cs, HW)
        NDArray ft = channelRows(teacher); // (B, Ct, HW)
        return kernel(ft, ft).add(kernel(fs, fs)).sub(Scalars.mul(kernel(fs, ft), 2)); // ()
    }

    /**
     * Views a map as one row per channel and normalises each row.
     *
     * @param f (B, C, H, W)
     * @return (B, C, H*W) unit rows
     */
    private static NDArray channelRows(NDArray f) {
        Shape s = f.getShape();
        return FeatureElement.l2Normalize(f.reshape(s.get(0), s.get(1), -1)); // (B, C, HW)
    }

    /**
     * RepDistiller's {@code poly_kernel(a, b).mean()}: the mean of {@code (a_i . b_j)^2} over the
     * batch and all channel pairs.
     *
     * @param a (B, Ca, HW)
     * @param b (B, Cb, HW)
     * @return ()
     */
    private static NDArray kernel(NDArray a, NDArray b) {
        return a.matMul(b.transpose(0, 2, 1)).square().mean(); // (B, Ca, Cb) -> ()
    }

    /**
     * Estimates the normalised copies of the paired stage maps (student with gradient, teacher) and
     * the kernels B x (Cs^2 + Ct^2 + Cs Ct), each kept with its square and gradient.
     *
     * @param setup the output shapes; 0 when absent
     * @param batchSize B
     * @return bytes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        long maps = FeatureMaps.stageBytes(setup, batchSize, 3, 2);
        if (maps == 0) {
            return 0;
        }
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        List<Shape> s = FeatureMaps.shapes(setup.studentShapes());
        int k = Math.min(FeatureMaps.stageCount(t), FeatureMaps.stageCount(s));
        double kernels = 0;
        for (int i = 1; i <= k; i++) {
            double cs = s.get(i).get(1);
            double ct = t.get(i).get(1);
            kernels += 3 * (cs * cs + ct * ct + cs * ct);
        }
        return maps + (long) (kernels * batchSize * setup.dataType().getNumOfBytes());
    }

    /**
     * Factory for {@code nst}; options {@code beta} (50), {@code alpha} (0), {@code kd_temperature}
     * (4).
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
            double beta = options.getDouble("beta", 50, 0);
            KdTerm kd = KdTerm.fromOptions(options, 0);
            options.checkNoUnknownKeys();
            return new NstDistiller(beta, kd);
        }
    }
}
