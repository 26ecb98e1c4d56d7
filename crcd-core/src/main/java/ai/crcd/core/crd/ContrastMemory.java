package ai.crcd.core.crd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Where CRD's positives and negatives come from. Both sides are scored as RepDistiller's {@code
 * ContrastMemory}: the student embedding against the TEACHER memory and the teacher embedding
 * against the STUDENT memory.
 */
interface ContrastMemory extends AutoCloseable {

    /** Index of a whole array, for views owned by a per-step manager. */
    NDIndex ALL = new NDIndex(":");

    /**
     * Scores a batch.
     *
     * @param vs (B, F) student embeddings, unit rows, with gradient
     * @param vt (B, F) teacher embeddings, unit rows, with gradient to the teacher head
     * @param indices (B) training-set indices, or {@code null} where the memory needs none
     * @param step the per-step manager for intermediates
     * @return [student side (B, K + 1), teacher side (B, K + 1)], scores / tau, column 0 positive
     */
    NDList logits(NDArray vs, NDArray vt, NDArray indices, NDManager step);

    /**
     * Stores the batch's embeddings after the optimiser step.
     *
     * @param vs (B, F) detached student embeddings of the step
     * @param vt (B, F) detached teacher embeddings of the step
     * @param indices (B) the batch's training-set indices, or {@code null}
     */
    void update(NDArray vs, NDArray vt, NDArray indices);

    /**
     * Returns fresh copies of the state arrays (owned by the caller).
     *
     * @return the arrays, {@link #stateSize()} of them
     */
    NDList state();

    /**
     * Returns how many arrays {@link #state()} returns.
     *
     * @return the count
     */
    int stateSize();

    /**
     * Restores state.
     *
     * @param state the arrays of {@link #state()}, in order
     */
    void loadState(NDList state);

    /**
     * Returns the bytes held by the memory's arrays.
     *
     * @return bytes
     */
    long bytes();

    /** Releases the memory's arrays. */
    @Override
    void close();

    /**
     * Copies {@code source} into {@code target} after checking its shape.
     *
     * @param target the live buffer
     * @param source the checkpoint array
     * @param what the buffer's name for the error message
     */
    static void restore(NDArray target, NDArray source, String what) {
        if (!target.getShape().equals(source.getShape())) {
            throw new IllegalArgumentException(
                    "crd checkpoint: "
                            + what
                            + " has shape "
                            + source.getShape()
                            + ", expected "
                            + target.getShape()
                            + "; the checkpoint was written with other crd options or another"
                            + " data set");
        }
        target.set(
                new NDIndex(":"),
                source.toDevice(target.getDevice(), false).toType(target.getDataType(), false));
    }

    /**
     * Creates a (rows, F) float32 array with entries uniform in +-1/sqrt(F/3), RepDistiller's
     * memory initialisation (rows of expected squared norm 1).
     *
     * @param manager the owner
     * @param rows the row count
     * @param featDim F
     * @param random the generator
     * @return the array
     */
    static NDArray uniformInit(NDManager manager, long rows, int featDim, SeededRandom random) {
        float[] values = new float[Math.toIntExact(rows * featDim)];
        random.fillUniform(values, 1.0 / Math.sqrt(featDim / 3.0));
        return manager.create(values, new Shape(rows, featDim));
    }
}
