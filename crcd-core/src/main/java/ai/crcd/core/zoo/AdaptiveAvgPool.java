package ai.crcd.core.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * PyTorch's {@code F.adaptive_avg_pool2d} (bin i of an axis covers {@code [floor(i * in / out),
 * ceil((i + 1) * in / out))}), and the rule with which RepDistiller's AT and NST bring a student
 * and a teacher map to one spatial size.
 *
 * <p>The pooling is two products with constant averaging matrices, one per axis ({@code (B, C, H,
 * W) @ (W, ow)}, then the same over H), so it is exact for every size pair (not only divisible
 * ones) and differentiable in the input.
 */
public final class AdaptiveAvgPool {

    private AdaptiveAvgPool() {}

    /**
     * Pools a batch of maps to {@code (outH, outW)}.
     *
     * @param x (B, C, H, W)
     * @param outH output height, 1..H
     * @param outW output width, 1..W
     * @return (B, C, outH, outW), in {@code x}'s data type
     */
    public static NDArray pool(NDArray x, int outH, int outW) {
        Shape s = x.getShape();
        int h = Math.toIntExact(s.get(2));
        int w = Math.toIntExact(s.get(3));
        NDArray y = x;
        if (w != outW) {
            y = y.matMul(matrix(x, w, outW)); // (B, C, H, outW)
        }
        if (h != outH) {
            // (B, C, outW, H) @ (H, outH) -> (B, C, outW, outH) -> (B, C, outH, outW)
            y = y.transpose(0, 1, 3, 2).matMul(matrix(x, h, outH)).transpose(0, 1, 3, 2);
        }
        return y;
    }

    /**
     * RepDistiller's size matching in {@code AT.at_loss} and {@code NST.nst_loss}: when the heights
     * differ, the taller map is pooled to a square of the other's height; otherwise both stay.
     *
     * @param student (B, Cs, Hs, Ws)
     * @param teacher (B, Ct, Ht, Wt)
     * @return {student, teacher} with equal heights
     */
    public static NDArray[] matchHeights(NDArray student, NDArray teacher) {
        int sh = Math.toIntExact(student.getShape().get(2));
        int th = Math.toIntExact(teacher.getShape().get(2));
        if (sh > th) {
            return new NDArray[] {pool(student, th, th), teacher};
        }
        if (sh < th) {
            return new NDArray[] {student, pool(teacher, sh, sh)};
        }
        return new NDArray[] {student, teacher};
    }

    /**
     * Returns the per-sample spatial size {@code (h, w)} that {@link #matchHeights} gives a map.
     *
     * @param self this map's (N, C, H, W)
     * @param other the other map's (N, C, H, W)
     * @return {h, w}
     */
    static long[] matchedSize(Shape self, Shape other) {
        long h = self.get(2);
        long oh = other.get(2);
        return h > oh ? new long[] {oh, oh} : new long[] {h, self.get(3)};
    }

    /**
     * The (in, out) averaging matrix of one axis: column j averages bin j.
     *
     * @param like the array whose manager and data type the matrix takes
     * @param in the input length
     * @param out the output length, 1..in
     * @return (in, out)
     */
    private static NDArray matrix(NDArray like, int in, int out) {
        if (out < 1 || out > in) {
            throw new IllegalArgumentException(
                    "adaptive average pooling from " + in + " to " + out + " is not supported");
        }
        double[] m = new double[in * out];
        for (int j = 0; j < out; j++) {
            int start = j * in / out; // floor
            int end = ((j + 1) * in + out - 1) / out; // ceil
            for (int i = start; i < end; i++) {
                m[i * out + j] = 1.0 / (end - start);
            }
        }
        return like.getManager()
                .create(m, new Shape(in, out))
                .toType(like.getDataType(), false); // (in, out)
    }
}
