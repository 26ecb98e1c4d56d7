package ai.crcd.core;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A parent block that holds a student and a distiller's auxiliary block, so that one DJL {@code
 * Model}/{@code Trainer} (one optimiser) trains both. Its forward pass is the student's; {@code
 * trainer.initialize(inputShape)} initialises the student with the input shape and leaves the
 * auxiliary block, which {@code Distiller.initialize} has already initialised, as it is. Works with
 * any {@link Distiller}, not only CRCD; the training loop of crcd-train uses it too.
 */
public class StudentWithAuxiliary extends AbstractBlock {

    private final DistillableNetwork student;
    private final Block auxiliary;

    /**
     * Creates the parent.
     *
     * @param student the student network
     * @param auxiliary the distiller's {@code auxiliaryBlock()}, already initialised, or {@code
     *     null} for methods without trainable parameters
     */
    public StudentWithAuxiliary(DistillableNetwork student, Block auxiliary) {
        this.student = addChildBlock("student", student);
        this.auxiliary = auxiliary == null ? null : addChildBlock("auxiliary", auxiliary);
    }

    /**
     * Runs the student.
     *
     * @param ps the parameter store
     * @param inputs the student's inputs, e.g. [images (B, ...)]
     * @param training whether training
     * @param params forwarded to the student
     * @return the student's output
     */
    /**
     * Returns the student.
     *
     * @return the student network
     */
    public DistillableNetwork student() {
        return student;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return student.forward(ps, inputs, training, params);
    }

    /**
     * Returns the student's output shapes.
     *
     * @param inputShapes the student's input shapes
     * @return the student's output shapes
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return student.getOutputShapes(inputShapes);
    }

    /**
     * Initialises the student; checks that the auxiliary block is initialised.
     *
     * @param manager the manager
     * @param dataType the data type
     * @param inputShapes the student's input shapes
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        student.initialize(manager, dataType, inputShapes);
        if (auxiliary != null && !auxiliary.isInitialized()) {
            throw new IllegalStateException(
                    "the auxiliary block is not initialised: call distiller.initialize(manager,"
                            + " setup) before trainer.initialize(..)");
        }
    }
}
