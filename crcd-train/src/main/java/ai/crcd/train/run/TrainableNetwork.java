package ai.crcd.train.run;

import ai.crcd.core.DistillableNetwork;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The student and the distiller's auxiliary block under one parent, so that one optimiser trains
 * both and one parameter list saves both. Forward runs the student only; the distiller runs its
 * auxiliary block itself through the same parameter store. Both children are initialised before
 * they are put here.
 */
public final class TrainableNetwork extends AbstractBlock {

    private final DistillableNetwork student;

    /**
     * Creates the parent.
     *
     * @param student the initialised student
     * @param auxiliary the initialised auxiliary block, or {@code null}
     */
    public TrainableNetwork(DistillableNetwork student, Block auxiliary) {
        this.student = addChildBlock("student", student);
        if (auxiliary != null) {
            addChildBlock("aux", auxiliary);
        }
    }

    /**
     * Returns the student.
     *
     * @return the student
     */
    public DistillableNetwork student() {
        return student;
    }

    /**
     * Runs the student.
     *
     * @param ps the parameter store
     * @param inputs [images (B, C, H, W)]
     * @param training training mode
     * @param params unused
     * @return the student's {@code FeatureOutput} layout
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return student.forward(ps, inputs, training, params);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return student.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(
            ai.djl.ndarray.NDManager manager, DataType dataType, Shape... inputShapes) {
        student.initialize(manager, dataType, inputShapes);
    }
}
