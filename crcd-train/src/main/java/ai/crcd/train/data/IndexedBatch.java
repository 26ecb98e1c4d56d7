package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One batch of images with their labels and their sample indices within the data set. The arrays
 * live in the batch's own manager, closed with the batch.
 */
public final class IndexedBatch implements AutoCloseable {

    private final NDManager manager;
    private final NDArray images;
    private final NDArray labels;
    private final NDArray indices;

    /**
     * Creates a batch.
     *
     * @param manager the manager owning the arrays (closed by {@link #close()})
     * @param images (B, C, H, W) float32, augmented and normalised
     * @param labels (B) int64
     * @param indices (B) int64, positions of the samples in the data set
     */
    public IndexedBatch(NDManager manager, NDArray images, NDArray labels, NDArray indices) {
        this.manager = manager;
        this.images = images;
        this.labels = labels;
        this.indices = indices;
    }

    /**
     * Returns the manager that owns the arrays.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    /**
     * Returns the images.
     *
     * @return (B, C, H, W) float32
     */
    public NDArray images() {
        return images;
    }

    /**
     * Returns the labels.
     *
     * @return (B) int64
     */
    public NDArray labels() {
        return labels;
    }

    /**
     * Returns the sample indices.
     *
     * @return (B) int64
     */
    public NDArray indices() {
        return indices;
    }

    /**
     * Returns the batch size.
     *
     * @return B
     */
    public int size() {
        return (int) labels.getShape().get(0);
    }

    @Override
    public void close() {
        manager.close();
    }
}
