package ai.crcd.core.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * PyTorch's {@code F.adaptive_avg_pool2d}, which DJL 0.36 does not offer: output cell {@code i} of
 * an axis of length {@code n} pooled to {@code o} averages the inputs {@code floor(i n / o)}
 * (inclusive) to {@code ceil((i + 1) n / o)} (exclusive). Computed as two small matrix products
 * (rows, then columns), so it is exact for any sizes and differentiable in the input.
 */
public final class AdaptivePool {

    private AdaptivePool() {}

    /**
     * Pools the two spatial axes of {@code x} to {@code (outH, outW)}.
     *
     * @param x (B, C, H, W)
     * @param outH the output height, 1..H
     * @param outW the output width, 1..W
     * @return (B, C, outH, outW), {@code x} itself when the sizes already match
     * @throws IllegalArgumentException for a size of 0 or above the input's
     */
    public static NDArray avgPool2d(NDArray x, long outH, long outW) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        if (h == outH && w == outW) {
            return x;
        }
        NDArray rows = matrix(x.getManager(), h, outH).toType(x.getDataType(), false); // (oH, H)
        NDArray cols =
                matrix(x.getManager(), w, outW)
                        .toType(x.getDataType(), false)
                        .transpose(); // (W, oW)
        return rows.matMul(x).matMul(cols); // (B, C, oH, W) -> (B, C, oH, oW)
    }

    /**
     * Returns the averaging matrix of one axis.
     *
     * @param manager where the matrix lives
     * @param n the input length
     * @param o the output length, 1..n
     * @return (o, n) float32, row i averages the window of cell i
     */
    static NDArray matrix(NDManager manager, long n, long o) {
        if (o < 1 || o > n) {
            throw new IllegalArgumentException(
                    "adaptive average pooling: output size " + o + " must be in 1.." + n);
        }
        float[] m = new float[(int) (o * n)];
        for (long i = 0; i < o; i++) {
            long start = Math.floorDiv(i * n, o);
            long end = Math.floorDiv((i + 1) * n + o - 1, o); // ceil((i + 1) n / o)
            for (long j = start; j < end; j++) {
                m[(int) (i * n + j)] = 1f / (end - start);
            }
        }
        return manager.create(m, new ai.djl.ndarray.types.Shape(o, n));
    }
}
