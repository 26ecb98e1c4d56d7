package ai.crcd.core.zoo;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The pieces of SSKD's student objective ({@code student.py}) on a view-major batch of V = 4 views
 * (see {@code ai.crcd.core.InputViews}): rows {@code 0..B-1} are the originals and row {@code (k-1)
 * B + i} of the M = 3B "transformed" rows is rotation k of image i.
 *
 * <ul>
 *   <li>{@link #viewSimilarities}: SSKD's {@code simi} matrix, cosine similarity of every
 *       transformed row with every original, (M, B).
 *   <li>{@link #targetRank}: the rank of the target column in each row (SSKD's "error level
 *       ranking"), 0 when the target has the largest score.
 *   <li>{@link #keepMask}: SSKD's filter: keep every row of rank 0 and the {@code floor(ratio *
 *       wrong)} wrong rows of smallest rank.
 *   <li>{@link #maskedKl}: {@code F.kl_div(log_softmax(s/T)[keep], softmax(t/T)[keep], 'batchmean')
 *       * T^2} times a weight.
 * </ul>
 *
 * <p>Ties (not specified by SSKD, whose {@code torch.argsort} is not stable): a class whose score
 * equals the target's does not count towards the target's rank; among wrong rows of equal rank, the
 * one earlier in SSKD's row order (image i, then rotation k: {@code 3 i + k - 1}) is kept first.
 */
public final class SskdLoss {

    /** {@code F.cosine_similarity}'s eps: each norm is clamped to at least this. */
    public static final double COSINE_EPS = 1e-8;

    private SskdLoss() {}

    /**
     * Cosine similarity of every transformed row with every original, {@code z / max(||z||, eps)}
     * row-wise then a product.
     *
     * @param z (V B, D) head outputs, view-major
     * @param views V
     * @return (M, B), M = (V - 1) B; entry (j, i) = cos(z[B + j], z[i])
     */
    public static NDArray viewSimilarities(NDArray z, int views) {
        long b = z.getShape().get(0) / views;
        NDArray sq = z.square().sum(new int[] {1}, true); // (VB, 1)
        NDArray norm = Scalars.maximum(sq, COSINE_EPS * COSINE_EPS).sqrt(); // (VB, 1)
        NDArray u = z.div(norm); // (VB, D) unit rows
        NDArray nor = u.get(new NDIndex("0:{}", b)); // (B, D)
        NDArray aug = u.get(new NDIndex("{}:", b)); // (M, D)
        return aug.matMul(nor.transpose()); // (M, B)
    }

    /**
     * The rank of the target column in each row: the number of columns with a strictly larger
     * score.
     *
     * @param scores (M, K) no gradient
     * @param target (M) int64 column of each row
     * @return (M) int64, 0 when the target's score is the largest
     */
    public static NDArray targetRank(NDArray scores, NDArray target) {
        int k = Math.toIntExact(scores.getShape().get(1));
        NDArray hot = target.oneHot(k).toType(scores.getDataType(), false); // (M, K)
        NDArray truth = scores.mul(hot).sum(new int[] {1}, true); // (M, 1)
        return scores.gt(truth).toType(DataType.INT64, false).sum(new int[] {1}); // (M)
    }

    /**
     * SSKD's filter: every row of rank 0 is kept, and of the {@code wrong} rows of rank &gt; 0 the
     * {@code floor(wrong * ratio)} of smallest rank, ties broken by {@code order}.
     *
     * @param rank (M) int64 from {@link #targetRank}
     * @param order (M) int64 distinct tie-break keys in [0, M), from {@link #sskdOrder}
     * @param ratio the share of wrong rows kept, in [0, 1]
     * @return (M) boolean, true for kept rows
     */
    public static NDArray keepMask(NDArray rank, NDArray order, double ratio) {
        long m = rank.getShape().get(0);
        // unique sort key of each row: (rank, order) lexicographic, exact in float64
        NDArray key =
                rank.toType(DataType.FLOAT64, false)
                        .mul(m)
                        .add(order.toType(DataType.FLOAT64, false)); // (M)
        NDArray wrong = rank.gt(0); // (M)
        // [j, j']: row j' is wrong and sorts before row j
        NDArray before = key.expandDims(0).lt(key.expandDims(1)).logicalAnd(wrong.expandDims(0));
        NDArray position = before.toType(DataType.INT64, false).sum(new int[] {1}); // (M)
        NDArray keepCount =
                wrong.toType(DataType.FLOAT64, false).sum().mul(ratio).floor(); // () int(w r)
        return wrong.logicalNot()
                .logicalOr(position.toType(DataType.FLOAT64, false).lt(keepCount)); // (M)
    }

    /**
     * SSKD's row order of the transformed rows of a view-major batch, {@code 3 i + k - 1} for row
     * {@code (k-1) B + i}: the tie-break key of {@link #keepMask}.
     *
     * @param manager where to create it
     * @param b B
     * @param views V
     * @return (M) int64, M = (V - 1) B
     */
    public static NDArray sskdOrder(NDManager manager, long b, int views) {
        long m = (views - 1) * b;
        long[] o = new long[Math.toIntExact(m)];
        for (int j = 0; j < m; j++) {
            o[j] = (j % b) * (views - 1) + j / b;
        }
        return manager.create(o);
    }

    /**
     * The target of each transformed row in {@link #viewSimilarities}: its own original, {@code j
     * mod B}.
     *
     * @param manager where to create it
     * @param b B
     * @param views V
     * @return (M) int64
     */
    public static NDArray viewTargets(NDManager manager, long b, int views) {
        long m = (views - 1) * b;
        long[] t = new long[Math.toIntExact(m)];
        for (int j = 0; j < m; j++) {
            t[j] = j % b;
        }
        return manager.create(t, new Shape(m));
    }

    /**
     * {@code weight * T^2 * sum_{kept j} KL(softmax(t_j/T) || softmax(s_j/T)) / max(kept, 1)}:
     * {@code F.kl_div(..., reduction='batchmean')} over the kept rows (0 when none is kept, where
     * PyTorch would give NaN).
     *
     * @param student (M, K) with gradient
     * @param teacher (M, K) no gradient
     * @param temperature T &gt; 0
     * @param keep (M) boolean kept rows
     * @param weight the factor of the term
     * @return () the term, in the student's data type
     */
    public static NDArray maskedKl(
            NDArray student, NDArray teacher, double temperature, NDArray keep, double weight) {
        NDArray logQ = Scalars.div(student, temperature).logSoftmax(1); // (M, K)
        NDArray logP = Scalars.div(teacher, temperature).logSoftmax(1); // (M, K)
        NDArray rows = logP.exp().mul(logP.sub(logQ)).sum(new int[] {1}); // (M)
        NDArray mask = keep.toType(student.getDataType(), false); // (M) constant
        NDArray count = mask.sum().maximum(1f); // () constant, >= 1
        NDArray mean = rows.mul(mask).sum().div(count); // ()
        return Scalars.mul(mean, weight * temperature * temperature);
    }
}
