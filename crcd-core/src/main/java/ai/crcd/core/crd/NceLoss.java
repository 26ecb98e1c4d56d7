package ai.crcd.core.crd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * CRD's NCE loss (RepDistiller's {@code ContrastLoss}, Eq. 18 of the CRD paper) on one side.
 *
 * <p>Input: logits {@code s = mem . v / tau} of shape (B, K + 1), column 0 the positive. With
 * {@code P = exp(s) / Z}, {@code Pn = 1 / n_data} and {@code eps = 1e-7}:
 *
 * <pre>
 * log D1 = log(P_pos / (P_pos + K Pn + eps))
 * log D0 = log(K Pn / (P_neg + K Pn + eps))
 * loss   = -(sum_b log D1 + sum_b sum_k log D0) / B
 * </pre>
 */
public final class NceLoss {

    /** The epsilon of RepDistiller's {@code criterion.py}. */
    public static final double EPS = 1e-7;

    private NceLoss() {}

    /**
     * Computes the normaliser Z from a batch as RepDistiller does on its first batch: {@code
     * mean(exp(s)) * n_data}.
     *
     * @param logits (B, K + 1) scores divided by the temperature
     * @param nData n_data
     * @return Z
     */
    public static double normaliser(NDArray logits, long nData) {
        return logits.exp().mean().toType(DataType.FLOAT64, false).getDouble() * nData;
    }

    /**
     * Computes the loss.
     *
     * @param logits (B, K + 1) scores divided by the temperature, column 0 the positive
     * @param z the normaliser Z &gt; 0
     * @param nData n_data, giving the noise probability Pn = 1 / n_data
     * @return a scalar
     */
    public static NDArray compute(NDArray logits, double z, long nData) {
        long batch = logits.getShape().get(0);
        long k = logits.getShape().get(1) - 1;
        double kpn = k / (double) nData;
        NDArray p = Scalars.div(logits.exp(), z); // (B, K + 1)
        NDArray den = p.add((float) (kpn + EPS)); // (B, K + 1)
        NDArray logD1 = p.get(":, 0").div(den.get(":, 0")).log(); // (B)
        NDArray minusLogD0 = Scalars.div(den.get(":, 1:"), kpn).log(); // (B, K), -log D0
        return Scalars.div(minusLogD0.sum().sub(logD1.sum()), batch);
    }
}
