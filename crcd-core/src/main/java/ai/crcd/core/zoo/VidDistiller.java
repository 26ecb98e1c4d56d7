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
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Variational information distillation (Ahn et al., CVPR 2019) as RepDistiller's {@code
 * distiller_zoo/VID.py} with the layers of its {@code train_student.py}: for every pair of stage
 * outputs (student g_s (B, Cs, Hs, Ws), teacher g_t (B, Ct, Ht, Wt); {@code feats[1:-1]}, paired
 * from the first stage, the longer list cut as Python's {@code zip}) one {@link VidRegressor}
 * {@code VIDLoss(Cs, Ct, Ct)}:
 *
 * <pre>
 * if Hs &gt; Ht: g_s = adaptive_avg_pool2d(g_s, (Ht, Ht)); if Hs &lt; Ht: g_t = ..(g_t, (Hs, Hs))
 * mu = regressor(g_s);  var_c = log(1 + exp(alpha_c)) + 1e-5
 * vid = beta * sum_layers mean_{b,c,h,w} 0.5 * ((mu - g_t)^2 / var_c + log var_c)
 * </pre>
 *
 * <p>Term {@code vid}; with {@code alpha} &gt; 0 also {@code kd}. The stage shapes come from {@link
 * DistillSetup#studentShapes()} / {@link DistillSetup#teacherShapes()}.
 */
public final class VidDistiller implements Distiller {

    private static final Logger logger = LoggerFactory.getLogger(VidDistiller.class);

    /** The reference's variance floor. */
    public static final double EPS = 1e-5;

    private final double beta;
    private final double initPredVar;
    private final KdTerm kdTerm;
    private VidRegressors regressors;
    private List<Shape> pairsStudent = List.of();
    private List<Shape> pairsTeacher = List.of();

    private VidDistiller(Builder b) {
        this.beta = b.beta;
        this.initPredVar = b.initPredVar;
        this.kdTerm = b.kdTerm;
    }

    /**
     * Returns a builder with RepDistiller's defaults (beta 1, init_pred_var 5, no KD).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return "vid";
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when the setup carries no stage shapes
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        if (setup.teacherShapes().isEmpty() || setup.studentShapes().isEmpty()) {
            throw new IllegalArgumentException(
                    "vid needs the networks' output shapes to build its regressors:"
                            + " DistillSetup.optOutputShapes(...) was not given");
        }
        FeatureMaps.checkStagePairs("vid", setup);
        List<Shape> s = stageShapes(setup.studentShapes());
        List<Shape> t = stageShapes(setup.teacherShapes());
        int k = Math.min(s.size(), t.size());
        if (s.size() != t.size()) {
            logger.warn(
                    "vid: the student has {} stages, the teacher {}: the first {} are paired (as"
                            + " RepDistiller's zip)",
                    s.size(),
                    t.size(),
                    k);
        }
        pairsStudent = List.copyOf(s.subList(0, k));
        pairsTeacher = List.copyOf(t.subList(0, k));
        List<VidRegressor> layers = new ArrayList<>();
        Shape[] inputs = new Shape[k];
        for (int i = 0; i < k; i++) {
            int cs = (int) pairsStudent.get(i).get(1);
            int ct = (int) pairsTeacher.get(i).get(1);
            layers.add(new VidRegressor(cs, ct, ct, initPredVar, EPS));
            inputs[i] = new Shape(1, cs, 1, 1);
        }
        regressors = new VidRegressors(layers);
        regressors.initialize(manager, setup.dataType(), inputs);
    }

    /** feats[1:-1] of {@link FeatureMaps#shapes}: the K stage shapes. */
    private static List<Shape> stageShapes(List<Shape> outputShapes) {
        List<Shape> feats = FeatureMaps.shapes(outputShapes);
        return feats.subList(1, 1 + FeatureMaps.stageCount(feats));
    }

    /** {@inheritDoc} */
    @Override
    public Block auxiliaryBlock() {
        return regressors;
    }

    /**
     * Returns the regressors (after {@link #initialize}).
     *
     * @return the block
     */
    public VidRegressors regressors() {
        return regressors;
    }

    /** {@inheritDoc} */
    @Override
    public LossTerms losses(DistillBatch batch) {
        if (regressors == null) {
            throw new IllegalStateException("vid: call initialize(...) before losses(...)");
        }
        LossTerms terms = kdTerm.addTo(new LossTerms(), batch);
        List<NDArray> gs = batch.student().stages();
        List<NDArray> gt = batch.teacher().stages();
        int k = regressors.layers().size();
        if (gs.size() < k || gt.size() < k) {
            throw new IllegalStateException(
                    "vid: built for "
                            + k
                            + " stage pairs, but the batch has "
                            + gs.size()
                            + " student and "
                            + gt.size()
                            + " teacher stages");
        }
        NDList inputs = new NDList(k);
        List<NDArray> targets = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            NDArray s = gs.get(i); // (B, Cs, Hs, Ws)
            NDArray t = gt.get(i).stopGradient(); // (B, Ct, Ht, Wt)
            checkChannels(i, s, t);
            NDArray[] matched = AdaptiveAvgPool.matchHeights(s, t); // the taller to a square
            s = matched[0]; // (B, Cs, H, W)
            t = matched[1]; // (B, Ct, H, W)
            inputs.add(s);
            targets.add(t);
        }
        NDList means = regressors.forward(batch.parameterStore(), inputs, batch.training());
        NDArray total = null;
        for (int i = 0; i < k; i++) {
            NDArray mu = means.get(i); // (B, Ct, H, W)
            NDArray var =
                    regressors
                            .layers()
                            .get(i)
                            .variance(batch.parameterStore(), mu, batch.training())
                            .reshape(1, -1, 1, 1); // (1, Ct, 1, 1)
            NDArray layer = negativeLogLikelihood(mu, targets.get(i), var);
            total = total == null ? layer : total.add(layer);
        }
        terms.put("vid", Scalars.mul(total, beta));
        return terms;
    }

    /**
     * The mean Gaussian negative log-likelihood of one layer, without the constant: {@code mean(0.5
     * * ((mu - t)^2 / var + log var))}.
     *
     * @param mu (B, C, H, W) the predicted mean
     * @param target (B, C, H, W) the teacher feature
     * @param variance (1, C, 1, 1)
     * @return ()
     */
    public static NDArray negativeLogLikelihood(NDArray mu, NDArray target, NDArray variance) {
        NDArray sq = mu.sub(target).square().div(variance); // (B, C, H, W)
        return Scalars.mul(sq.add(variance.log()), 0.5).mean(); // ()
    }

    private void checkChannels(int i, NDArray s, NDArray t) {
        int[] c = regressors.layers().get(i).channels();
        if (s.getShape().get(1) != c[0] || t.getShape().get(1) != c[2]) {
            throw new IllegalStateException(
                    "vid: stage "
                            + (i + 1)
                            + " was set up for "
                            + c[0]
                            + " student / "
                            + c[2]
                            + " teacher channels, got "
                            + s.getShape()
                            + " / "
                            + t.getShape()
                            + "; the DistillSetup's output shapes do not match the networks");
        }
    }

    /**
     * Estimates the step's extra memory: per layer, at the compared resolution, the regressor's
     * activations (3 convolutions and 2 ReLUs over Ct channels) and the likelihood chain (about 5 B
     * x Ct x H x W arrays), kept for the backward pass.
     *
     * @param setup the output shapes
     * @param batchSize B
     * @return bytes, 0 when the setup has no stage shapes
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        if (setup.teacherShapes().isEmpty() || setup.studentShapes().isEmpty()) {
            return 0;
        }
        List<Shape> s = stageShapes(setup.studentShapes());
        List<Shape> t = stageShapes(setup.teacherShapes());
        double total = 0;
        for (int i = 0; i < Math.min(s.size(), t.size()); i++) {
            long h = Math.min(s.get(i).get(2), t.get(i).get(2));
            total += 10.0 * batchSize * t.get(i).get(1) * h * h;
        }
        total *= setup.dataType().getNumOfBytes();
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    /** Builder for {@link VidDistiller}; every setting is optional. */
    public static final class Builder {
        private double beta = 1;
        private double initPredVar = 5.0;
        private KdTerm kdTerm = new KdTerm(0, KdTerm.DEFAULT_TEMPERATURE);

        Builder() {}

        /**
         * Sets the weight; default 1 (RepDistiller {@code -b}).
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
            return this;
        }

        /**
         * Sets the initial variance; default 5 ({@code VIDLoss(init_pred_var=5.0)}).
         *
         * @param initPredVar &gt; 1e-5 (the variance floor)
         * @return this builder
         */
        public Builder optInitPredVar(double initPredVar) {
            this.initPredVar = initPredVar;
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
        public VidDistiller build() {
            ZooOptions.check("vid", beta >= 0 && !Double.isInfinite(beta), "beta", beta, ">= 0");
            ZooOptions.check(
                    "vid",
                    initPredVar > EPS && !Double.isInfinite(initPredVar),
                    "init_pred_var",
                    initPredVar,
                    "a finite number > " + EPS);
            return new VidDistiller(this);
        }
    }

    /**
     * Factory for {@code vid}; options beta (1), init_pred_var (5), alpha (0), kd_temperature (4).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("vid");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            Builder b = builder().optKdTerm(KdTerm.fromOptions(options, 0));
            b.optBeta(options.getDouble("beta", 1, 0));
            b.optInitPredVar(options.getPositiveDouble("init_pred_var", 5.0));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
