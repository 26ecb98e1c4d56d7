package ai.crcd.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * Top-k hits of a batch of logits, strict about ties and non-finite values: a sample is a top-k hit
 * only if all of its logits are finite and fewer than k <em>other</em> classes have a logit {@code
 * >=} the logit of its true class. A tie therefore counts against the sample, so a network whose
 * logits are all equal (a collapsed or dead network) scores 0 % at every k below the class count,
 * and a sample with a NaN or infinite logit is always a miss.
 *
 * <p>For k at least the class count every finite sample is a hit (there are fewer than k other
 * classes). All work stays on the device; only the caller's final count goes to the host.
 */
public final class TopKHits {

    private TopKHits() {}

    /**
     * Returns, per sample, whether it is a top-k hit.
     *
     * @param logits (B, C) any floating-point type
     * @param labels (B) integer class indices in [0, C)
     * @param k k &gt;= 1
     * @return (B) boolean
     * @throws IllegalArgumentException for k &lt; 1 or shapes that do not fit
     */
    public static NDArray hits(NDArray logits, NDArray labels, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("top-k needs k >= 1, got " + k);
        }
        return othersAtLeastTruth(logits, labels).lt(k).logicalAnd(allFinite(logits)); // (B)
    }

    /**
     * Returns the number of top-k hits in the batch for each k.
     *
     * @param logits (B, C) any floating-point type
     * @param labels (B) integer class indices in [0, C)
     * @param ks the k values, each &gt;= 1
     * @return (ks.length) int64 hit counts, in the order of {@code ks}
     * @throws IllegalArgumentException for no k, a k &lt; 1 or shapes that do not fit
     */
    public static NDArray counts(NDArray logits, NDArray labels, int... ks) {
        if (ks.length == 0) {
            throw new IllegalArgumentException("top-k counts need at least one k");
        }
        NDArray others = othersAtLeastTruth(logits, labels); // (B)
        NDArray finite = allFinite(logits); // (B)
        NDList perK = new NDList();
        for (int k : ks) {
            if (k < 1) {
                throw new IllegalArgumentException("top-k needs k >= 1, got " + k);
            }
            perK.add(others.lt(k).logicalAnd(finite).toType(DataType.INT64, false).sum()); // ()
        }
        return NDArrays.stack(perK); // (K)
    }

    /**
     * Counts, per sample, the other classes whose logit is at least the true class's logit (ties
     * included). Meaningful only for rows whose logits are all finite.
     *
     * @param logits (B, C)
     * @param labels (B)
     * @return (B) int64
     */
    private static NDArray othersAtLeastTruth(NDArray logits, NDArray labels) {
        if (logits.getShape().dimension() != 2
                || labels.getShape().dimension() != 1
                || labels.getShape().get(0) != logits.getShape().get(0)) {
            throw new IllegalArgumentException(
                    "top-k: expected logits (B, C) and labels (B), got "
                            + logits.getShape()
                            + " and "
                            + labels.getShape());
        }
        int classes = Math.toIntExact(logits.getShape().get(1));
        NDArray oneHot = labels.toType(DataType.INT64, false).oneHot(classes); // (B, C) 0/1
        NDArray isTruth = oneHot.toType(DataType.BOOLEAN, false); // (B, C)
        // exact for finite rows: x * 1 plus zeros; rows with a NaN or infinity are masked later
        NDArray truth =
                logits.mul(oneHot.toType(logits.getDataType(), false))
                        .sum(new int[] {1}, true); // (B, 1)
        return logits.gte(truth)
                .logicalAnd(isTruth.logicalNot())
                .toType(DataType.INT64, false)
                .sum(new int[] {1}); // (B)
    }

    /** (B) boolean: whether every logit of the row is finite. */
    private static NDArray allFinite(NDArray logits) {
        NDArray bad = logits.isNaN().logicalOr(logits.isInfinite()); // (B, C)
        return bad.toType(DataType.INT64, false).sum(new int[] {1}).eq(0); // (B)
    }
}
