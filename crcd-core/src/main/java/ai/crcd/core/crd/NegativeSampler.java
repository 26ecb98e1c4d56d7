package ai.crcd.core.crd;

import java.util.ArrayList;
import java.util.List;

/**
 * Draws CRD's contrast indices as RepDistiller's {@code CIFAR100InstanceSample} in mode {@code
 * 'exact'}: for a sample of class c, position 0 is the sample itself and positions 1..K are K
 * samples drawn uniformly from all training samples of the other classes, without replacement (with
 * replacement for a class whose negatives number fewer than K, as the reference does).
 *
 * <p>Cost: the training set is sorted by class once ({@code n_data} ints); the "not my class" table
 * of class c is that order with c's block skipped, so it needs no copy. A draw is a partial
 * Fisher-Yates shuffle of K positions of that virtual table, undone afterwards: a tight primitive
 * loop of O(K) per sample (O(B*K) per step), no work proportional to {@code n_data}. The generator
 * is a {@link SeededRandom} whose state is saved in checkpoints.
 */
final class NegativeSampler {

    private final int[] labels;
    private final int k;
    private final int[] work; // sample indices grouped by class; restored after every draw
    private final int[] classStart;
    private final int[] classCount;
    private final int[] swaps;
    private final SeededRandom random;

    /**
     * Prepares the per-class tables.
     *
     * @param labels class of every training sample, by sample index
     * @param numClasses C; every label must lie in [0, C)
     * @param k negatives per sample
     * @param seed seed of the draws
     * @throws IllegalArgumentException for a label outside [0, C) or a single-class data set
     */
    NegativeSampler(int[] labels, int numClasses, int k, long seed) {
        this.labels = labels;
        this.k = k;
        this.random = new SeededRandom(seed);
        this.classCount = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            int c = labels[i];
            if (c < 0 || c >= numClasses) {
                throw new IllegalArgumentException(
                        "crd: dataset label of sample "
                                + i
                                + " is "
                                + c
                                + ", outside [0, "
                                + numClasses
                                + "); fix the data set labels or the class count");
            }
            classCount[c]++;
        }
        this.classStart = new int[numClasses];
        for (int c = 1; c < numClasses; c++) {
            classStart[c] = classStart[c - 1] + classCount[c - 1];
        }
        this.work = new int[labels.length];
        int[] fill = classStart.clone();
        for (int i = 0; i < labels.length; i++) {
            work[fill[labels[i]]++] = i;
        }
        for (int c = 0; c < numClasses; c++) {
            if (classCount[c] > 0 && classCount[c] == labels.length) {
                throw new IllegalArgumentException(
                        "crd: every training sample has class "
                                + c
                                + ", so there are no negatives from other classes; CRD needs at"
                                + " least two classes");
            }
        }
        this.swaps = new int[k];
    }

    /**
     * Returns the classes (with samples) whose negatives are fewer than K, i.e. those drawn with
     * replacement.
     *
     * @return class ids, ascending
     */
    List<Integer> classesWithReplacement() {
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < classCount.length; c++) {
            if (classCount[c] > 0 && labels.length - classCount[c] < k) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Draws the contrast indices of a batch.
     *
     * @param indices (B) sample indices of the batch, each in [0, n_data)
     * @return (B * (K + 1)) row-major: row b is [indices[b], K negatives of other classes]
     * @throws IllegalArgumentException for an index outside the training set
     */
    long[] sample(long[] indices) {
        int n = labels.length;
        long[] out = new long[indices.length * (k + 1)];
        for (int b = 0; b < indices.length; b++) {
            long idx = indices[b];
            if (idx < 0 || idx >= n) {
                throw new IllegalArgumentException(
                        "crd: batch sample index "
                                + idx
                                + " is outside the training set [0, "
                                + n
                                + "); the loader must give training-set indices");
            }
            int c = labels[(int) idx];
            int start = classStart[c];
            int skip = classCount[c];
            int available = n - skip;
            int base = b * (k + 1);
            out[base] = idx;
            if (available < k) {
                for (int j = 0; j < k; j++) {
                    int v = random.nextInt(available);
                    out[base + 1 + j] = work[v < start ? v : v + skip];
                }
                continue;
            }
            // partial Fisher-Yates over virtual positions [0, available) of "not class c"
            for (int j = 0; j < k; j++) {
                int r = j + random.nextInt(available - j);
                swaps[j] = r;
                int pj = j < start ? j : j + skip;
                int pr = r < start ? r : r + skip;
                int t = work[pr];
                work[pr] = work[pj];
                work[pj] = t;
                out[base + 1 + j] = t;
            }
            for (int j = k - 1; j >= 0; j--) { // undo, so that the class blocks stay intact
                int r = swaps[j];
                int pj = j < start ? j : j + skip;
                int pr = r < start ? r : r + skip;
                int t = work[pr];
                work[pr] = work[pj];
                work[pj] = t;
            }
        }
        return out;
    }

    /**
     * Returns the generator state.
     *
     * @return the state
     */
    long randomState() {
        return random.state();
    }

    /**
     * Restores the generator state.
     *
     * @param state a value from {@link #randomState()}
     */
    void setRandomState(long state) {
        random.setState(state);
    }
}
