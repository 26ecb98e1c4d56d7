package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * A training batch expanded into several views of each image, as a method asks for it through
 * {@link Distiller#trainingViews(NDArray)} (e.g. SSKD's four rotations).
 *
 * <p>Layout, view-major: with B images and V views, row {@code v * B + i} of {@link #inputs()} is
 * view {@code v} of image {@code i}; view 0 is the batch itself, unchanged. So the first B rows are
 * always the originals, in the batch's order: the step computes the cross-entropy and the train
 * top-1 on them only ({@link #originals(NDArray, int)}), evaluation never sees other views, and the
 * student and the teacher run on all {@code V * B} rows (batch-norm statistics over all of them, as
 * in SSKD).
 */
public final class InputViews {

    private final NDArray inputs;
    private final int views;

    private InputViews(NDArray inputs, int views) {
        this.inputs = inputs;
        this.views = views;
    }

    /**
     * Returns the batch as its own single view (what every method gets by default).
     *
     * @param x (B, ...) the batch
     * @return one view
     */
    public static InputViews single(NDArray x) {
        return new InputViews(x, 1);
    }

    /**
     * Wraps an expanded batch.
     *
     * @param inputs (V * B, ...) view-major rows, the first B the originals
     * @param views V &gt;= 1
     * @return the views
     * @throws IllegalArgumentException when V is below 1 or does not divide the row count
     */
    public static InputViews of(NDArray inputs, int views) {
        long rows = inputs.getShape().get(0);
        if (views < 1 || rows % views != 0) {
            throw new IllegalArgumentException(
                    "input views: " + rows + " rows cannot hold " + views + " views per image");
        }
        return new InputViews(inputs, views);
    }

    /**
     * Returns the four rotations of every image by 0, 90, 180 and 270 degrees counter-clockwise, as
     * {@code numpy.rot90(img, k)} on an (H, W, C) image (SSKD's {@code cifar.py}): view k at output
     * row {@code (i, j)} holds, for k = 1, input {@code (j, W-1-i)}; k = 2, input {@code (H-1-i,
     * W-1-j)}; k = 3, input {@code (H-1-j, i)}. Rotation moves whole pixels and so commutes with a
     * per-channel normalisation: it can run on the normalised device batch.
     *
     * @param x (B, C, H, W) images, H = W
     * @return 4 views: (4B, C, H, W)
     * @throws IllegalArgumentException for non-square or non-4-D input
     */
    public static InputViews rotations(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(2) != s.get(3)) {
            throw new IllegalArgumentException(
                    "rotation views need square (B, C, H, W) images, got " + s);
        }
        NDArray t = x.transpose(0, 1, 3, 2); // (B, C, W, H): t[i, j] = x[j, i]
        NDArray r90 = t.flip(2); // r90[i, j] = t[W-1-i, j] = x[j, W-1-i]
        NDArray r180 = x.flip(2, 3); // x[H-1-i, W-1-j]
        NDArray r270 = t.flip(3); // r270[i, j] = t[i, H-1-j] = x[H-1-j, i]
        return new InputViews(NDArrays.concat(new NDList(x, r90, r180, r270), 0), 4);
    }

    /**
     * Returns the expanded batch.
     *
     * @return (V * B, ...) view-major rows
     */
    public NDArray inputs() {
        return inputs;
    }

    /**
     * Returns the number of views of each image.
     *
     * @return V &gt;= 1
     */
    public int views() {
        return views;
    }

    /**
     * Returns the rows of the originals (view 0) of an array laid out as {@link #inputs()}.
     *
     * @param rows (V * B, ...) e.g. logits of the expanded batch
     * @param views V
     * @return (B, ...) the first B rows, {@code rows} itself when V = 1
     */
    public static NDArray originals(NDArray rows, int views) {
        if (views == 1) {
            return rows;
        }
        long b = rows.getShape().get(0) / views;
        return rows.get(new NDIndex("0:{}", b));
    }
}
