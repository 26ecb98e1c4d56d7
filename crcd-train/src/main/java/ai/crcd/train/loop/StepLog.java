package ai.crcd.train.loop;

import java.util.List;

/**
 * The host copy of several training steps' results, one row per applied step.
 *
 * @param epoch the epoch, from 0
 * @param firstStep the step within the epoch (from 1) of the first row
 * @param termNames the loss terms, {@code "ce"} first
 * @param rows per step: the weighted terms in {@code termNames} order, then the top-1 hits
 * @param stepNumbers per row, the step within the epoch (from 1)
 * @param batchSizes per row, the images of the step
 */
public record StepLog(
        int epoch,
        int firstStep,
        List<String> termNames,
        List<float[]> rows,
        int[] stepNumbers,
        int[] batchSizes) {

    /**
     * Returns the loss terms of a row (without the hits).
     *
     * @param s the row's index in {@link #rows()}
     * @return the weighted terms in {@link #termNames()} order
     */
    public float[] terms(int s) {
        return java.util.Arrays.copyOf(rows.get(s), termNames.size());
    }

    /**
     * Returns the total loss (sum of the terms) of a row.
     *
     * @param row a row of {@link #rows()}
     * @return the sum of its terms
     */
    public double total(float[] row) {
        double s = 0;
        for (int i = 0; i < termNames.size(); i++) {
            s += row[i];
        }
        return s;
    }
}
