package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalDouble;

/**
 * A distiller's request for an initialisation stage before the main training, as RepDistiller's
 * {@code helper/pretrain.py} {@code init()} (AB, FSP, FT; {@code --init_epochs} 30): for a number
 * of epochs a fresh SGD optimiser trains a method-chosen subset of parameters on a method-chosen
 * objective; the cross-entropy is not part of it. The training loop runs it without naming the
 * method ({@code DistillStep} in init mode, crcd-train's run lifecycle: its own progress, metrics
 * rows, checkpoints and exact resume).
 *
 * <p>What trains: the auxiliary blocks given with {@link Builder#addTrainedBlock} and {@link
 * Builder#addInitOnlyBlock}, and, with {@link Builder#optTrainStudentFeatures}, the student's
 * "feature modules" (RepDistiller's {@code get_feat_modules()}): every student parameter that the
 * stem and stage outputs depend on (found once by the step through autograd), which leaves out the
 * classifier and any layer between the last stage and pooling. Every other parameter stays
 * unchanged during the stage. Init-only blocks (FT's paraphraser, AB's connectors) are not trained
 * by the main stage either.
 *
 * <p>The optimiser is SGD as in RepDistiller's {@code init()}: the run's momentum and weight decay,
 * a learning rate ({@link #learningRate()}, or the run's base learning rate; constant unless the
 * method sets {@link #milestones()}), new momentum buffers; the main stage then starts with its own
 * fresh optimiser.
 */
public final class InitStage {

    /** RepDistiller's {@code --init_epochs} default. */
    public static final int DEFAULT_EPOCHS = 30;

    /** The option key that methods use for the number of init epochs. */
    public static final String EPOCHS_OPTION = "init_epochs";

    /** The objective of the init stage: named, weighted scalar terms for one batch. */
    @FunctionalInterface
    public interface Objective {

        /**
         * Computes the init-stage terms of one batch.
         *
         * @param batch teacher output (no gradient), student output, labels, indices
         * @return the named scalar terms (not {@code "ce"}), summed and back-propagated
         */
        LossTerms losses(DistillBatch batch);
    }

    private final int epochs;
    private final Objective objective;
    private final boolean studentFeatures;
    private final boolean studentTraining;
    private final List<Block> trainedBlocks;
    private final List<Block> initOnlyBlocks;
    private final double learningRate;
    private final List<Integer> milestones;
    private final double gamma;

    private InitStage(Builder b) {
        this.epochs = b.epochs;
        this.objective = b.objective;
        this.studentFeatures = b.studentFeatures;
        this.studentTraining = b.studentTraining;
        this.trainedBlocks = Collections.unmodifiableList(new ArrayList<>(b.trainedBlocks));
        this.initOnlyBlocks = Collections.unmodifiableList(new ArrayList<>(b.initOnlyBlocks));
        this.learningRate = b.learningRate;
        this.milestones = List.copyOf(b.milestones);
        this.gamma = b.gamma;
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder of RepDistiller's {@code init()} for AB and FSP: the student's feature
     * modules, in training mode, trained for {@code epochs} on one term, the method's loss.
     *
     * @param epochs the init epochs, &gt;= 1
     * @param term the term's name, e.g. {@code "fsp"}
     * @param loss the method's loss of a batch, a scalar
     * @return the builder, to which the method may add its blocks
     */
    public static Builder studentFeatureStage(
            int epochs, String term, java.util.function.Function<DistillBatch, NDArray> loss) {
        return builder()
                .setEpochs(epochs)
                .setObjective(b -> new LossTerms().put(term, loss.apply(b)))
                .optTrainStudentFeatures(true)
                .optStudentTraining(true);
    }

    /**
     * Reads the option {@code init_epochs} (default {@value #DEFAULT_EPOCHS}, 0 = no init stage).
     *
     * @param options the method's options; the key is consumed
     * @return the number of init epochs, &gt;= 0
     */
    public static int epochsFromOptions(DistillerOptions options) {
        return options.getInt(EPOCHS_OPTION, DEFAULT_EPOCHS, 0);
    }

    /**
     * Returns the number of init epochs.
     *
     * @return the epochs, &gt;= 1
     */
    public int epochs() {
        return epochs;
    }

    /**
     * Returns the objective.
     *
     * @return the objective
     */
    public Objective objective() {
        return objective;
    }

    /**
     * Returns whether the student's feature modules train.
     *
     * @return true to train every student parameter the stem and stage outputs depend on
     */
    public boolean trainsStudentFeatures() {
        return studentFeatures;
    }

    /**
     * Returns the mode of the student's forward pass during the stage (BatchNorm batch statistics
     * and running-statistics updates in training mode).
     *
     * @return true for training mode
     */
    public boolean studentTraining() {
        return studentTraining;
    }

    /**
     * Returns the auxiliary blocks trained in the init stage and also in the main stage.
     *
     * @return the blocks
     */
    public List<Block> trainedBlocks() {
        return trainedBlocks;
    }

    /**
     * Returns the auxiliary blocks trained in the init stage only (frozen in the main stage).
     *
     * @return the blocks
     */
    public List<Block> initOnlyBlocks() {
        return initOnlyBlocks;
    }

    /**
     * Returns the learning rate of the stage, if the method fixes one.
     *
     * @return the rate, or empty for the run's base learning rate
     */
    public OptionalDouble learningRate() {
        return Double.isNaN(learningRate)
                ? OptionalDouble.empty()
                : OptionalDouble.of(learningRate);
    }

    /**
     * Returns the init epochs (from 0) at which the stage's learning rate is multiplied by {@link
     * #gamma()} (PyTorch's {@code MultiStepLR} stepped per epoch, e.g. SSKD's teacher-head stage:
     * 30 and 45); empty by default (a constant rate, RepDistiller's {@code init()}).
     *
     * @return strictly increasing epoch indices
     */
    public List<Integer> milestones() {
        return milestones;
    }

    /**
     * Returns the factor applied at each of {@link #milestones()}.
     *
     * @return gamma, 1 without milestones
     */
    public double gamma() {
        return gamma;
    }

    /**
     * Builder for {@link InitStage}: {@code set*} are required, {@code opt*}/{@code add*} optional.
     */
    public static final class Builder {
        private int epochs = DEFAULT_EPOCHS;
        private Objective objective;
        private boolean studentFeatures;
        private boolean studentTraining = true;
        private final List<Block> trainedBlocks = new ArrayList<>();
        private final List<Block> initOnlyBlocks = new ArrayList<>();
        private double learningRate = Double.NaN;
        private List<Integer> milestones = List.of();
        private double gamma = 1.0;

        Builder() {}

        /**
         * Sets the number of epochs; default {@value InitStage#DEFAULT_EPOCHS}.
         *
         * @param epochs &gt;= 1
         * @return this builder
         */
        public Builder setEpochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /**
         * Sets the objective.
         *
         * @param objective the terms of one batch
         * @return this builder
         */
        public Builder setObjective(Objective objective) {
            this.objective = objective;
            return this;
        }

        /**
         * Trains the student's feature modules (RepDistiller's {@code get_feat_modules()}); default
         * off.
         *
         * @param train whether to train them
         * @return this builder
         */
        public Builder optTrainStudentFeatures(boolean train) {
            this.studentFeatures = train;
            return this;
        }

        /**
         * Sets the student's forward mode during the stage; default training (RepDistiller: the
         * feature modules are put in {@code train()} mode when they are trained, else the student
         * is in {@code eval()} mode).
         *
         * @param training the mode
         * @return this builder
         */
        public Builder optStudentTraining(boolean training) {
            this.studentTraining = training;
            return this;
        }

        /**
         * Adds an auxiliary block whose parameters train in both stages.
         *
         * @param block a part of the distiller's auxiliary block
         * @return this builder
         */
        public Builder addTrainedBlock(Block block) {
            trainedBlocks.add(block);
            return this;
        }

        /**
         * Adds an auxiliary block whose parameters train in the init stage only.
         *
         * @param block a part of the distiller's auxiliary block
         * @return this builder
         */
        public Builder addInitOnlyBlock(Block block) {
            initOnlyBlocks.add(block);
            return this;
        }

        /**
         * Fixes the stage's learning rate; default the run's base learning rate.
         *
         * @param lr &gt; 0
         * @return this builder
         */
        public Builder optLearningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        /**
         * Decays the stage's learning rate by {@code gamma} at each milestone (init epochs from 0,
         * PyTorch's {@code MultiStepLR}); default none.
         *
         * @param milestones strictly increasing epoch indices &gt;= 1
         * @param gamma the factor, in (0, 1]
         * @return this builder
         */
        public Builder optLearningRateMilestones(List<Integer> milestones, double gamma) {
            this.milestones = List.copyOf(milestones);
            this.gamma = gamma;
            return this;
        }

        /**
         * Builds the description.
         *
         * @return the stage
         */
        public InitStage build() {
            if (epochs < 1) {
                throw new IllegalArgumentException(
                        "init stage: epochs must be >= 1, got " + epochs);
            }
            if (objective == null) {
                throw new IllegalStateException("init stage: setObjective is required");
            }
            if (!studentFeatures && trainedBlocks.isEmpty() && initOnlyBlocks.isEmpty()) {
                throw new IllegalStateException("init stage: nothing to train");
            }
            if (!Double.isNaN(learningRate) && !(learningRate > 0)) {
                throw new IllegalArgumentException(
                        "init stage: learning rate must be > 0, got " + learningRate);
            }
            for (int i = 0; i < milestones.size(); i++) {
                if (milestones.get(i) < 1
                        || (i > 0 && milestones.get(i) <= milestones.get(i - 1))) {
                    throw new IllegalArgumentException(
                            "init stage: milestones must be increasing epochs >= 1, got "
                                    + milestones);
                }
            }
            if (!(gamma > 0 && gamma <= 1)) {
                throw new IllegalArgumentException(
                        "init stage: gamma must be in (0, 1], got " + gamma);
            }
            return new InitStage(this);
        }
    }
}
