package ai.crcd.core.crcd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;

/**
 * The feature element of CRCD (Sec. 3.2, Eq. 12): the l2-normalised pooled backbone output, and the
 * row-wise l2 normalisation shared by the other CRCD classes.
 */
public final class FeatureElement {

    /** Norms are clamped from below by this value before dividing (as torch's F.normalize). */
    public static final double NORM_EPS = 1e-12;

    private FeatureElement() {}

    /**
     * Computes the feature element {@code f = pooled / ||pooled||}.
     *
     * @param pooled (B, D) the pooled feature (input of the linear classifier)
     * @return (B, D) unit rows; gradient flows to {@code pooled}
     */
    public static NDArray compute(NDArray pooled) {
        return l2Normalize(pooled);
    }

    /**
     * Normalises the last axis to unit l2 norm: {@code x / max(||x||, 1e-12)}.
     *
     * @param x (..., D)
     * @return (..., D), differentiable, finite also for a zero row
     */
    public static NDArray l2Normalize(NDArray x) {
        int last = x.getShape().dimension() - 1;
        // one reduction pass (torch's vector norm; its gradient is 0 at x = 0), then the clamp and
        // the reciprocal on the small (..., 1) side, so that the large side is one multiply whose
        // backward is cheaper than a division's
        NDArray norm = x.norm(new int[] {last}, true); // (..., 1)
        NDArray inverse = Scalars.of(norm, 1.0).div(Scalars.maximum(norm, NORM_EPS)); // (..., 1)
        return x.mul(inverse);
    }
}
