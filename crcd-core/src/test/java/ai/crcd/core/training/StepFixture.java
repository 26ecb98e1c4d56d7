package ai.crcd.core.training;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.StudentWithAuxiliary;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/**
 * The setup the step tests share: small networks whose classifier is one {@link Linear}, float32
 * initialisation, plain SGD at a fixed rate, and a {@link DistillStep} builder over a student and
 * its auxiliary block.
 */
public final class StepFixture {

    private StepFixture() {}

    /**
     * A small test network with C classes, D-dim pooled features and a {@link Linear} classifier,
     * registered by the subclass in its own order (parameter positions matter to the tests).
     */
    public abstract static class SmallNetwork extends AbstractBlock implements DistillableNetwork {

        private final int classes;
        private final int dim;

        /**
         * Creates the network's shell.
         *
         * @param classes C
         * @param dim D
         */
        protected SmallNetwork(int classes, int dim) {
            this.classes = classes;
            this.dim = dim;
        }

        /**
         * Returns the classifier.
         *
         * @return the (C, D) linear head
         */
        protected abstract Linear classifier();

        @Override
        public int numClasses() {
            return classes;
        }

        @Override
        public int featureDim() {
            return dim;
        }

        @Override
        public Parameter classifierWeight() {
            return classifier().getParameters().get("weight");
        }
    }

    /**
     * Initialises a block in float32 for the given input shape.
     *
     * @param root the manager that owns the parameters
     * @param block the block
     * @param input the input shape
     * @param <T> the block's type
     * @return the block
     */
    public static <T extends Block> T initialized(NDManager root, T block, Shape input) {
        block.initialize(root, DataType.FLOAT32, input);
        return block;
    }

    /**
     * Returns plain SGD at a fixed learning rate.
     *
     * @param lr the rate
     * @return the optimiser
     */
    public static Optimizer sgd(float lr) {
        return Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).build();
    }

    /**
     * Starts a step over the student and its auxiliary block, owned by {@code root}.
     *
     * @param root the long-lived manager
     * @param student the student
     * @param auxiliary the distiller's auxiliary block, or {@code null}
     * @return the builder, to be given a teacher, an optimiser and options
     */
    public static DistillStep.Builder step(
            NDManager root, DistillableNetwork student, Block auxiliary) {
        return DistillStep.builder()
                .setNetwork(new StudentWithAuxiliary(student, auxiliary))
                .setManager(root);
    }
}
