package ai.crcd.train.imports;

import java.util.Arrays;

/**
 * One tensor of a PyTorch checkpoint, copied out of its storage into a dense row-major array
 * (strides and storage offsets already applied). Floating-point tensors (float32, float16,
 * bfloat16, float64) are held as {@code float[]}, integer tensors (int64, int32, uint8, bool) as
 * {@code long[]}.
 */
public final class TorchTensor {

    private final String dtype;
    private final long[] shape;
    private final float[] floats;
    private final long[] longs;

    TorchTensor(String dtype, long[] shape, float[] floats, long[] longs) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.floats = floats;
        this.longs = longs;
    }

    /**
     * Returns PyTorch's name of the element type of the file, e.g. {@code float32}, {@code
     * float16}, {@code int64}.
     *
     * @return the element type as stored
     */
    public String dtype() {
        return dtype;
    }

    /**
     * Returns the shape.
     *
     * @return a copy of the shape, e.g. {@code [16, 3, 3, 3]}
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns whether the elements are floating point.
     *
     * @return true for float32/float16/bfloat16/float64
     */
    public boolean isFloating() {
        return floats != null;
    }

    /**
     * Returns the elements as float32 in row-major order (integers are converted).
     *
     * @return the values, length = product of the shape
     */
    public float[] toFloatArray() {
        if (floats != null) {
            return floats;
        }
        float[] f = new float[longs.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = longs[i];
        }
        return f;
    }

    /**
     * Returns the elements of an integer tensor.
     *
     * @return the values in row-major order
     * @throws IllegalStateException for a floating-point tensor
     */
    public long[] toLongArray() {
        if (longs == null) {
            throw new IllegalStateException("a " + dtype + " tensor has no integer values");
        }
        return longs;
    }

    /**
     * Formats the shape as crcd prints shapes, e.g. {@code (16, 3, 3, 3)}.
     *
     * @return the shape in parentheses
     */
    public String shapeString() {
        return shapeString(shape);
    }

    static String shapeString(long[] shape) {
        String s = Arrays.toString(shape);
        return "(" + s.substring(1, s.length() - 1) + ")";
    }

    @Override
    public String toString() {
        return dtype + shapeString();
    }
}
