package ai.crcd.core.crcd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The gradient element of CRCD (Sec. 3.2, Eq. 13): {@code g = dL_cls/df}, the gradient of the
 * batch-mean cross-entropy with respect to the pooled feature {@code f} (the input of the final
 * linear classifier {@code z = f W^T + b}).
 *
 * <p>For a linear head the gradient has the closed form {@code g_n = (softmax(z_n) - onehot(y_n)) W
 * / B}. It is built from ordinary differentiable ops, so the result stays differentiable in the
 * student's parameters (through {@code z} and {@code W}), exactly like PyTorch's {@code
 * autograd.grad(..., create_graph=True)}, which DJL does not expose.
 */
public final class GradientElement {

    private GradientElement() {}

    /**
     * Computes {@code g = (softmax(z) - onehot(y)) W / B}.
     *
     * @param logits (B, C) the classifier output z
     * @param labels (B) integer class labels in [0, C)
     * @param classifierWeight (C, D) the weight W of the classifier {@code z = f W^T + b}
     * @return (B, D) the gradient of mean cross-entropy w.r.t. the pooled feature, not normalised
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public static NDArray compute(NDArray logits, NDArray labels, NDArray classifierWeight) {
        long batch = logits.getShape().get(0);
        long classes = logits.getShape().get(1);
        if (classifierWeight.getShape().dimension() != 2
                || classifierWeight.getShape().get(0) != classes) {
            throw new IllegalArgumentException(
                    "gradient element: classifier weight must be (C, D) with C = "
                            + classes
                            + " (the logits' width), got "
                            + classifierWeight.getShape());
        }
        if (labels.getShape().size() != batch) {
            throw new IllegalArgumentException(
                    "gradient element: expected " + batch + " labels, got " + labels.getShape());
        }
        NDArray probs = logits.softmax(-1); // (B, C)
        NDArray oneHot =
                labels.reshape(batch)
                        .toType(DataType.INT64, false)
                        .oneHot((int) classes, logits.getDataType()); // (B, C)
        return Scalars.div(probs.sub(oneHot).matMul(classifierWeight), batch); // (B, D)
    }
}
