package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;

/**
 * One knowledge-distillation method. The training loop talks to every method through this interface
 * only, and never names a method.
 *
 * <p>Life cycle:
 *
 * <ol>
 *   <li>{@link #initialize(NDManager, DistillSetup)} once: creates and initialises the auxiliary
 *       block's parameters and the method's buffers.
 *   <li>per training step: {@link #losses(DistillBatch)} inside the gradient collector; the loop
 *       adds the weighted cross-entropy of the student and back-propagates the sum; then, after the
 *       optimiser step, {@link #afterStep(DistillBatch)} updates buffers and memories.
 *   <li>{@link #state()} / {@link #loadState(NDList)} for checkpoints.
 * </ol>
 *
 * <p>The teacher is frozen: implementations never send gradient to it (its outputs arrive
 * detached). The auxiliary block is trained by the same optimiser as the student: the loop puts it
 * under one parent block with the student.
 *
 * <p>A method without parameters (KD, AT, SP, RKD, ...) implements only {@link #name()} and {@link
 * #losses(DistillBatch)}, like mdistiller's 39-line KD: {@link #initialize} does nothing and {@link
 * #auxiliaryBlock()} returns {@code null} by default.
 */
public interface Distiller extends AutoCloseable {

    /**
     * Returns the method's short name, e.g. {@code "kd"}, {@code "crd"}, {@code "crcd"}.
     *
     * @return the name
     */
    String name();

    /**
     * Creates the auxiliary parameters and buffers for the given networks. Does nothing by default.
     *
     * @param manager a long-lived manager that owns the parameters and buffers
     * @param setup shapes, class count, training-set facts
     */
    default void initialize(NDManager manager, DistillSetup setup) {}

    /**
     * Returns the trainable auxiliary block (embeddings, relation networks, critics).
     *
     * @return the block, or {@code null} (the default) for methods without trainable parameters
     */
    default Block auxiliaryBlock() {
        return null;
    }

    /**
     * Computes the method's weighted loss terms for one batch. Cross-entropy of the student on the
     * labels is not included: the loop adds it with its own weight.
     *
     * @param batch teacher and student outputs, labels, sample indices
     * @return named scalar terms, each already multiplied by its weight
     */
    LossTerms losses(DistillBatch batch);

    /**
     * Returns what the method needs from the teacher in a training step. The step runs the teacher
     * only when the answer is not {@link TeacherUse#NONE} (then it calls neither {@link
     * #losses(DistillBatch)} nor {@link #afterStep(DistillBatch)}: the step is cross-entropy only).
     *
     * @return {@link TeacherUse#FEATURES} unless the method says less
     */
    default TeacherUse teacherUse() {
        return TeacherUse.FEATURES;
    }

    /**
     * Updates buffers and memories after the optimiser step. Only called for training batches.
     *
     * @param batch the batch whose {@link #losses(DistillBatch)} were just optimised
     */
    default void afterStep(DistillBatch batch) {}

    /**
     * Returns the non-parameter state (buffers, memory banks, counters) for a checkpoint.
     *
     * @return the state arrays, empty if the method has none
     */
    default NDList state() {
        return new NDList();
    }

    /**
     * Restores state written by {@link #state()}.
     *
     * @param state the arrays returned by {@link #state()}
     */
    default void loadState(NDList state) {}

    /**
     * Estimates the memory, in bytes, that this method adds to one training step on the device: its
     * buffers and memory banks plus the largest intermediate tensors that the step keeps for the
     * backward pass (an order-of-magnitude figure, not an exact count). Called before {@link
     * #initialize}, so that a run can refuse sizes that cannot fit instead of letting the engine
     * try to allocate them. The student's and teacher's own activations are not included.
     *
     * @param setup the setup {@link #initialize} will get (dims, class count, data set size)
     * @param batchSize the training batch size B
     * @return the estimate in bytes, 0 when negligible (the default)
     */
    default long estimateStepBytes(DistillSetup setup, int batchSize) {
        return 0;
    }

    /**
     * Returns the views of a training batch that the method trains on. The default is the batch
     * itself (one view); a method such as SSKD returns more (e.g. {@link
     * InputViews#rotations(NDArray)}), laid out view-major with the originals as the first B rows.
     * The step runs the student and the teacher on all rows, computes the cross-entropy and the
     * train top-1 on the originals only, and passes the view count on in {@link
     * DistillBatch#views()}; evaluation sees the originals only. Called once per training step, on
     * the device batch (already augmented and normalised), inside the step's manager.
     *
     * @param x (B, C, H, W) the training batch
     * @return the views, {@link InputViews#single(NDArray)} by default
     */
    default InputViews trainingViews(NDArray x) {
        return InputViews.single(x);
    }

    /**
     * Returns the method's init stage, run by the loop before the main epochs (RepDistiller's
     * {@code init()} for AB, FSP and FT), or empty (the default). Called after {@link #initialize}.
     *
     * @return the stage, or empty for a method without one
     */
    default java.util.Optional<InitStage> initStage() {
        return java.util.Optional.empty();
    }

    /**
     * Returns whether the method reads the pre-activation stage outputs ({@link
     * FeatureOutput#preActStages()}, RepDistiller's {@code preact=True}); the loop then builds the
     * teacher and the student with them. Default {@code false}.
     *
     * @return true to request pre-activation outputs from both networks
     */
    default boolean usesPreActivations() {
        return false;
    }

    /** Releases buffers. */
    @Override
    default void close() {}
}
