package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Scalar operands that are safe to keep in the autograd graph.
 *
 * <p>With the PyTorch engine, {@code NDArray.mul(Number)} (and {@code div}, {@code maximum}, {@code
 * minimum}, {@code pow}, ... with a {@code Number}) wraps the number in a 0-d tensor whose memory
 * is a Java direct buffer ({@code torch::from_blob}, no copy) and closes that array right after the
 * op. Autograd keeps the 0-d tensor for the backward pass of {@code mul}, {@code div}, {@code
 * maximum}, {@code minimum} and {@code pow}, but nothing keeps the Java buffer alive: once the
 * garbage collector has freed it, {@code backward} reads freed memory and the gradients turn NaN,
 * zero or wrong at random steps (when the collector happens to run between forward and backward).
 * The forward value is always right, which hides the bug.
 *
 * <p>{@link #of} returns a 0-d array that owns its memory (a libtorch copy), so every
 * differentiable path in crcd-core multiplies, divides and clamps through this class. {@code
 * add(Number)} and {@code sub(Number)} are safe as they are: their backward does not read the
 * operand.
 */
public final class Scalars {

    private Scalars() {}

    /**
     * Returns a 0-d array holding {@code value} in the data type, device and manager of {@code
     * like}, backed by memory that libtorch owns.
     *
     * @param like the array the scalar will be combined with
     * @param value the value
     * @return () a 0-d array of {@code like}'s data type
     */
    public static NDArray of(NDArray like, double value) {
        NDManager manager = like.getManager();
        NDArray owned;
        try (NDArray blob = manager.create(value)) { // float64 over a Java direct buffer
            owned = blob.duplicate(); // a libtorch-owned copy
        }
        NDArray typed = owned.toType(like.getDataType(), false);
        if (typed != owned) {
            owned.close();
        }
        return typed;
    }

    /**
     * Computes {@code x * value}, differentiable in {@code x}.
     *
     * @param x (...) the array
     * @param value the factor
     * @return (...) the product, in {@code x}'s data type
     */
    public static NDArray mul(NDArray x, double value) {
        return x.mul(of(x, value));
    }

    /**
     * Computes {@code x / value}, differentiable in {@code x}.
     *
     * @param x (...) the array
     * @param value the divisor
     * @return (...) the quotient, in {@code x}'s data type
     */
    public static NDArray div(NDArray x, double value) {
        return x.div(of(x, value));
    }

    /**
     * Computes {@code max(x, value)} element-wise, differentiable in {@code x}.
     *
     * @param x (...) the array
     * @param value the lower bound
     * @return (...) the clamped array
     */
    public static NDArray maximum(NDArray x, double value) {
        return x.maximum(of(x, value));
    }

    /**
     * Computes {@code min(x, value)} element-wise, differentiable in {@code x}.
     *
     * @param x (...) the array
     * @param value the upper bound
     * @return (...) the clamped array
     */
    public static NDArray minimum(NDArray x, double value) {
        return x.minimum(of(x, value));
    }
}
