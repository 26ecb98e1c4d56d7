package ai.crcd.core.training;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;

/**
 * Distillation with DJL's own training API: the pieces a DJL user puts into a {@code Model}, a
 * {@link DefaultTrainingConfig} and {@code EasyTrain.fit}. All of them run the one {@link
 * DistillStep}.
 *
 * <pre>{@code
 * Distillation d = Distillation.builder()
 *         .setTeacher(teacher)            // trained, initialised; frozen here
 *         .setStudent(student)            // initialised
 *         .setDistiller(distiller)        // Distillers.create(..), initialised
 *         .setManager(model.getNDManager())
 *         .optCeWeight(1.0)
 *         .build();
 * model.setBlock(d.block());
 * DefaultTrainingConfig config = d.newTrainingConfig()      // loss + after-step listener
 *         .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).build())
 *         .addEvaluator(new Accuracy())
 *         .addTrainingListeners(TrainingListener.Defaults.logging());
 * try (Trainer trainer = model.newTrainer(config)) {
 *     trainer.initialize(new Shape(1, 1, 28, 28));
 *     EasyTrain.fit(trainer, epochs, trainSet, testSet); // labels: [labels, sample indices]
 * }
 * }</pre>
 *
 * <p>Single device only (the loss runs the auxiliary block through its own parameter store).
 */
public final class Distillation {

    private final DistillStep step;
    private final DistillationBlock block;
    private final DistillationLoss loss;
    private final DistillationListener listener;

    private Distillation(DistillStep step, DistillationBlock block) {
        this.step = step;
        this.block = block;
        block.bind(step);
        this.loss = new DistillationLoss(step, block);
        this.listener = new DistillationListener(step, loss);
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
     * Returns the block to train ({@code model.setBlock}): student and auxiliary block; the frozen
     * teacher runs inside its forward pass.
     *
     * @return the block
     */
    public Block block() {
        return block;
    }

    /**
     * Returns the loss: {@code ce_weight * CE} plus the distiller's terms.
     *
     * @return the loss
     */
    public Loss loss() {
        return loss;
    }

    /**
     * Returns the listener that runs the distiller's after-step update; it must be among the
     * trainer's listeners.
     *
     * @return the listener
     */
    public TrainingListener listener() {
        return listener;
    }

    /**
     * Returns a training config with {@link #loss()} and {@link #listener()}; add the optimiser,
     * evaluators and DJL's listeners to it.
     *
     * @return a new config
     */
    public DefaultTrainingConfig newTrainingConfig() {
        return new DefaultTrainingConfig(loss).addTrainingListeners(listener);
    }

    /**
     * Returns the step behind the loss.
     *
     * @return the step
     */
    public DistillStep step() {
        return step;
    }

    /** Builder for {@link Distillation}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private DistillableNetwork teacher;
        private DistillableNetwork student;
        private Distiller distiller;
        private NDManager manager;
        private double ceWeight = 1.0;

        Builder() {}

        /**
         * Sets the trained teacher; its parameters are frozen.
         *
         * @param teacher the initialised teacher
         * @return this builder
         */
        public Builder setTeacher(DistillableNetwork teacher) {
            this.teacher = teacher;
            return this;
        }

        /**
         * Sets the student.
         *
         * @param student the initialised student
         * @return this builder
         */
        public Builder setStudent(DistillableNetwork student) {
            this.student = student;
            return this;
        }

        /**
         * Sets the method.
         *
         * @param distiller an initialised distiller (e.g. from {@code Distillers.create})
         * @return this builder
         */
        public Builder setDistiller(Distiller distiller) {
            this.distiller = distiller;
            return this;
        }

        /**
         * Sets a long-lived manager for the parameter stores, e.g. the model's.
         *
         * @param manager the manager
         * @return this builder
         */
        public Builder setManager(NDManager manager) {
            this.manager = manager;
            return this;
        }

        /**
         * Sets the cross-entropy weight; default 1.
         *
         * @param ceWeight the weight
         * @return this builder
         */
        public Builder optCeWeight(double ceWeight) {
            this.ceWeight = ceWeight;
            return this;
        }

        /**
         * Builds the pieces.
         *
         * @return the distillation
         */
        public Distillation build() {
            if (teacher == null || student == null || distiller == null) {
                throw new IllegalStateException(
                        "Distillation needs setTeacher, setStudent and setDistiller");
            }
            DistillationBlock block = new DistillationBlock(student, distiller.auxiliaryBlock());
            DistillStep step =
                    DistillStep.builder()
                            .setNetwork(block)
                            .setManager(manager)
                            .optTeacher(teacher, distiller)
                            .optCeWeight(ceWeight)
                            .build();
            return new Distillation(step, block);
        }
    }
}
