package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.InitStage;
import ai.crcd.core.InputViews;
import ai.crcd.core.LossTerms;
import ai.crcd.core.kd.KdTerm;
import ai.crcd.core.training.DistillStep;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.Optional;

/**
 * SSKD, "Knowledge Distillation Meets Self-Supervision" (Xu et al., ECCV 2020), as the authors'
 * code (xuguodong03/SSKD {@code student.py}, {@code wrapper.py}, {@code cifar.py}) computes it.
 *
 * <p>Every training batch is expanded into four views per image, the rotations by 0, 90, 180 and
 * 270 degrees ({@link #trainingViews}, {@link InputViews#rotations}); teacher and student run on
 * all 4B rows, the loop's cross-entropy ({@code loss.ce_weight}, SSKD's 0.1) and train top-1 use
 * the B originals. The terms, each batch-mean over its rows (transformed rows: M = 3B):
 *
 * <ul>
 *   <li>{@code kd} = alpha KL(p_t || p_s) T^2 on the originals, T = kd_temperature (the shared
 *       {@link KdTerm}; SSKD's kd_weight 0.9 and kd_T 4 are the defaults here).
 *   <li>{@code sskd_tf} = tf_weight tf_T^2 KL on the transformed rows whose teacher prediction
 *       survives the error-level filter: every row where the teacher ranks the label first, plus
 *       floor(ratio_tf * wrong) of the wrong rows, smallest label rank first.
 *   <li>{@code sskd_ss} = ss_weight ss_T^2 KL between softmax(sim_t / ss_T) and softmax(sim_s /
 *       ss_T), where sim (M, B) is the cosine similarity of each transformed row's SS-head output
 *       with each original's; filtered as above by the rank of the row's own original in sim_t,
 *       with ratio_ss.
 * </ul>
 *
 * <p>The SS heads ({@link SskdHeads}): an MLP {@code D -> D -> D} on the pooled feature of each
 * network. The student's is trained with the student. The teacher's must first be trained alone on
 * the teacher's own self-supervision task ({@link #teacherHeadLosses}: cross-entropy over sim_t
 * with each transformed row's original as target; SSKD trains it 60 epochs, lr 0.05, milestones
 * 30/45, backbone frozen) and is frozen (no gradient, not updated) in the main stage. SSKD's
 * details and crcd's choices: docs/zoo/sskd.md.
 */
public final class SskdDistiller implements Distiller {

    /** The views per image: rotations by 0, 90, 180, 270 degrees. */
    public static final int VIEWS = 4;

    /** SSKD's {@code --t-lr}: the teacher head's learning rate. */
    public static final double INIT_LR = 0.05;

    /** SSKD's {@code --t-milestones}: the teacher head's learning rate decays at these epochs. */
    public static final List<Integer> INIT_MILESTONES = List.of(30, 45);

    /** SSKD's {@code --gamma}. */
    public static final double INIT_GAMMA = 0.1;

    /** The name of the teacher's self-supervision loss term. */
    public static final String TEACHER_SS_TERM = "sskd_teacher_ss";

    private final KdTerm kd;
    private final double tfWeight;
    private final double tfTemperature;
    private final double ratioTf;
    private final double ssWeight;
    private final double ssTemperature;
    private final double ratioSs;
    private final int initEpochs;
    private final double initLr;
    private SskdHeads heads;

    private SskdDistiller(Builder b) {
        this.kd = new KdTerm(b.alpha, b.kdTemperature);
        this.tfWeight = b.tfWeight;
        this.tfTemperature = b.tfTemperature;
        this.ratioTf = b.ratioTf;
        this.ssWeight = b.ssWeight;
        this.ssTemperature = b.ssTemperature;
        this.ratioSs = b.ratioSs;
        this.initEpochs = b.initEpochs;
        this.initLr = b.initLr;
    }

    /**
     * Returns a builder with SSKD's CIFAR-100 defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code sskd}.
     *
     * @return the name
     */
    @Override
    public String name() {
        return "sskd";
    }

    /**
     * Creates both SS heads (PyTorch's default {@code nn.Linear} initialisation). Without an init
     * stage ({@code init_epochs} 0) the teacher's head is frozen; with one, it is the stage's
     * init-only block (trained there, never by the main stage).
     *
     * @param manager owns the parameters
     * @param setup the pooled feature sizes
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        heads = new SskdHeads(setup.studentDim(), setup.teacherDim());
        heads.initialize(
                manager,
                setup.dataType(),
                new Shape(1, setup.studentDim()),
                new Shape(1, setup.teacherDim()));
        if (initEpochs == 0) {
            heads.teacherHead().freezeParameters(true);
        }
    }

    /**
     * Returns the teacher's SS-head training (SSKD {@code student.py}, "train ssp_head"): {@code
     * init_epochs} epochs (60) of {@link #teacherHeadLosses} on the rotation views, only the
     * teacher head trained (SGD, the run's momentum and weight decay, lr {@code init_lr} 0.05
     * decayed by 0.1 at epochs 30 and 45), the student in inference mode and not updated.
     *
     * @return the stage, empty when {@code init_epochs} is 0
     * @throws IllegalStateException before {@link #initialize}
     */
    @Override
    public Optional<InitStage> initStage() {
        if (initEpochs == 0) {
            return Optional.empty();
        }
        if (heads == null) {
            throw new IllegalStateException("sskd: call initialize(...) before initStage()");
        }
        return Optional.of(
                InitStage.builder()
                        .setEpochs(initEpochs)
                        .setObjective(this::teacherHeadLosses)
                        .addInitOnlyBlock(heads.teacherHead())
                        .optStudentTraining(false)
                        .optLearningRate(initLr)
                        .optLearningRateMilestones(INIT_MILESTONES, INIT_GAMMA)
                        .build());
    }

    /**
     * Returns both SS heads (the teacher's frozen outside its own training stage).
     *
     * @return the heads
     */
    @Override
    public Block auxiliaryBlock() {
        return heads;
    }

    /**
     * Returns the heads.
     *
     * @return the heads, {@code null} before {@link #initialize}
     */
    public SskdHeads heads() {
        return heads;
    }

    /**
     * Returns how many epochs the teacher's SS head is trained before the main stage ({@code
     * init_epochs}, SSKD's {@code --t-epoch} 60).
     *
     * @return the epochs, &gt;= 0
     */
    public int initEpochs() {
        return initEpochs;
    }

    /**
     * Returns the four rotations of the batch.
     *
     * @param x (B, C, H, W) square images
     * @return 4 views, (4B, C, H, W)
     */
    @Override
    public InputViews trainingViews(NDArray x) {
        return InputViews.rotations(x);
    }

    /**
     * Computes {@code kd}, {@code sskd_tf} and {@code sskd_ss}.
     *
     * @param batch outputs on the 4B rotation rows ({@link DistillBatch#views()} = 4)
     * @return the weighted terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        checkViews(batch);
        NDManager m = batch.manager();
        NDArray sLogits = batch.student().logits(); // (4B, C)
        NDArray tLogits = batch.teacher().logits().stopGradient(); // (4B, C)
        long b = batch.labels().getShape().get(0);
        NDIndex aug = new NDIndex("{}:", b);
        NDArray order = SskdLoss.sskdOrder(m, b, VIEWS); // (M)
        LossTerms terms = kd.addTo(new LossTerms(), batch);

        // transformation term: KD on the rotated rows the teacher gets "nearly right"
        NDArray sAug = sLogits.get(aug); // (M, C)
        NDArray tAug = tLogits.get(aug); // (M, C)
        NDArray augLabels = batch.labels().tile(VIEWS - 1); // (M) label of each rotated row
        NDArray tProb = tAug.div(tfTemperature).softmax(1); // (M, C) aug_knowledge, no gradient
        NDArray keepTf =
                SskdLoss.keepMask(SskdLoss.targetRank(tProb, augLabels), order, ratioTf); // (M)
        terms.put("sskd_tf", SskdLoss.maskedKl(sAug, tAug, tfTemperature, keepTf, tfWeight));

        // self-supervision term: KD of the contrastive similarity distributions
        ParameterStore ps = batch.parameterStore();
        NDArray zs = heads.student(ps, batch.student().pooled(), true); // (4B, Ds)
        NDArray zt = heads.teacher(ps, batch.teacher().pooled().stopGradient(), false);
        NDArray simS = SskdLoss.viewSimilarities(zs, VIEWS); // (M, B)
        NDArray simT = SskdLoss.viewSimilarities(zt.stopGradient(), VIEWS); // (M, B)
        NDArray targets = SskdLoss.viewTargets(m, b, VIEWS); // (M)
        NDArray keepSs =
                SskdLoss.keepMask(SskdLoss.targetRank(simT, targets), order, ratioSs); // (M)
        terms.put("sskd_ss", SskdLoss.maskedKl(simS, simT, ssTemperature, keepSs, ssWeight));
        return terms;
    }

    /**
     * The objective of the teacher's SS head (SSKD {@code student.py}, "train ssp_head"): mean
     * cross-entropy of the similarity rows sim_t (M, B), no temperature, each transformed row's
     * target its own original. The teacher's pooled feature is detached (backbone frozen), so only
     * the teacher head receives gradient; it runs in the init stage ({@link #initStage()}).
     *
     * @param batch outputs on the 4B rotation rows (the student's are not used)
     * @return one term, {@value #TEACHER_SS_TERM}
     */
    public LossTerms teacherHeadLosses(DistillBatch batch) {
        checkViews(batch);
        long b = batch.labels().getShape().get(0);
        NDArray zt =
                heads.teacher(
                        batch.parameterStore(),
                        batch.teacher().pooled().stopGradient(),
                        true); // (4B, Dt)
        NDArray sim = SskdLoss.viewSimilarities(zt, VIEWS); // (M, B)
        NDArray targets = SskdLoss.viewTargets(batch.manager(), b, VIEWS); // (M)
        return new LossTerms().put(TEACHER_SS_TERM, DistillStep.crossEntropy(sim, targets));
    }

    private void checkViews(DistillBatch batch) {
        if (heads == null) {
            throw new IllegalStateException("sskd: call initialize(...) before losses(...)");
        }
        if (batch.views() != VIEWS) {
            throw new IllegalStateException(
                    "sskd: the batch holds "
                            + batch.views()
                            + " view(s) per image, needs the 4 rotations: run it through"
                            + " DistillStep.train, which asks Distiller.trainingViews");
        }
    }

    /** Builder with SSKD's CIFAR-100 defaults ({@code student.py}'s argparse defaults). */
    public static final class Builder {
        private String path = "sskd";
        private double alpha = 0.9;
        private double kdTemperature = 4.0;
        private double tfWeight = 2.7;
        private double tfTemperature = 4.0;
        private double ratioTf = 1.0;
        private double ssWeight = 10.0;
        private double ssTemperature = 0.5;
        private double ratioSs = 0.75;
        private int initEpochs = 60;
        private double initLr = INIT_LR;

        Builder() {}

        /**
         * Sets the prefix of error messages, e.g. {@code "distill.options"}; default {@code
         * "sskd"}.
         *
         * @param path the prefix
         * @return this builder
         */
        public Builder optOptionsPath(String path) {
            this.path = path;
            return this;
        }

        /**
         * Sets the KD term on the originals (SSKD {@code --kd-weight} 0.9, {@code --kd-T} 4).
         *
         * @param alpha the weight, &gt;= 0
         * @param temperature T &gt; 0
         * @return this builder
         */
        public Builder optKd(double alpha, double temperature) {
            this.alpha = alpha;
            this.kdTemperature = temperature;
            return this;
        }

        /**
         * Sets the transformation term (SSKD {@code --tf-weight} 2.7, {@code --tf-T} 4, {@code
         * --ratio-tf} 1.0).
         *
         * @param weight &gt;= 0
         * @param temperature &gt; 0
         * @param ratio share of wrong rows kept, in [0, 1]
         * @return this builder
         */
        public Builder optTransform(double weight, double temperature, double ratio) {
            this.tfWeight = weight;
            this.tfTemperature = temperature;
            this.ratioTf = ratio;
            return this;
        }

        /**
         * Sets the self-supervision term (SSKD {@code --ss-weight} 10, {@code --ss-T} 0.5, {@code
         * --ratio-ss} 0.75).
         *
         * @param weight &gt;= 0
         * @param temperature &gt; 0
         * @param ratio share of wrong rows kept, in [0, 1]
         * @return this builder
         */
        public Builder optSelfSupervision(double weight, double temperature, double ratio) {
            this.ssWeight = weight;
            this.ssTemperature = temperature;
            this.ratioSs = ratio;
            return this;
        }

        /**
         * Sets the teacher's SS-head training stage (SSKD {@code --t-epoch} 60, {@code --t-lr}
         * 0.05).
         *
         * @param epochs &gt;= 0; 0 leaves the teacher head at its initial values, frozen
         * @param lr the initial learning rate, &gt; 0
         * @return this builder
         */
        public Builder optInitStage(int epochs, double lr) {
            this.initEpochs = epochs;
            this.initLr = lr;
            return this;
        }

        /**
         * Validates every option (the one place) and builds the distiller.
         *
         * @return the distiller
         * @throws IllegalArgumentException naming the option, the value and what is allowed
         */
        public SskdDistiller build() {
            atLeast("alpha", alpha, 0);
            positive("kd_temperature", kdTemperature);
            atLeast("tf_weight", tfWeight, 0);
            positive("tf_temperature", tfTemperature);
            ratio("ratio_tf", ratioTf);
            atLeast("ss_weight", ssWeight, 0);
            positive("ss_temperature", ssTemperature);
            ratio("ratio_ss", ratioSs);
            positive("init_lr", initLr);
            if (initEpochs < 0) {
                throw bad(InitStage.EPOCHS_OPTION, initEpochs, "an integer >= 0");
            }
            return new SskdDistiller(this);
        }

        private void atLeast(String key, double v, double min) {
            if (!(v >= min) || Double.isInfinite(v)) {
                throw bad(key, v, "a finite number >= " + min);
            }
        }

        private void positive(String key, double v) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw bad(key, v, "a finite number > 0");
            }
        }

        private void ratio(String key, double v) {
            if (!(v >= 0 && v <= 1)) {
                throw bad(key, v, "a number in [0, 1]");
            }
        }

        private IllegalArgumentException bad(String key, Object v, String allowed) {
            return new IllegalArgumentException(
                    path + "." + key + ": got '" + v + "', allowed: " + allowed);
        }
    }

    /**
     * Factory for {@code sskd}; options (defaults = SSKD's CIFAR-100 ones): {@code alpha} 0.9,
     * {@code kd_temperature} 4, {@code tf_weight} 2.7, {@code tf_temperature} 4, {@code ratio_tf}
     * 1.0, {@code ss_weight} 10, {@code ss_temperature} 0.5, {@code ratio_ss} 0.75, {@code
     * init_epochs} 60, {@code init_lr} 0.05. SSKD's {@code ce_weight} 0.1 is the run's {@code
     * loss.ce_weight}.
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("sskd");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            double any = -Double.MAX_VALUE; // ranges are checked by Builder.build, in one place
            Builder b = builder().optOptionsPath(options.path());
            b.optKd(
                    options.getDouble("alpha", b.alpha, any),
                    options.getDouble("kd_temperature", b.kdTemperature, any));
            b.optTransform(
                    options.getDouble("tf_weight", b.tfWeight, any),
                    options.getDouble("tf_temperature", b.tfTemperature, any),
                    options.getDouble("ratio_tf", b.ratioTf, any));
            b.optSelfSupervision(
                    options.getDouble("ss_weight", b.ssWeight, any),
                    options.getDouble("ss_temperature", b.ssTemperature, any),
                    options.getDouble("ratio_ss", b.ratioSs, any));
            b.optInitStage(
                    options.getInt(InitStage.EPOCHS_OPTION, b.initEpochs, Integer.MIN_VALUE),
                    options.getDouble("init_lr", b.initLr, any));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
