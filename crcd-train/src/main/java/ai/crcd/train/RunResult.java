package ai.crcd.train;

import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of a {@link TrainingRun}.
 *
 * @param history one entry per epoch, in order
 * @param runDir the run folder with all outputs
 */
public record RunResult(List<EpochMetrics> history, Path runDir) {

    /**
     * Creates the result.
     *
     * @param history one entry per epoch
     * @param runDir the run folder
     */
    public RunResult {
        history = List.copyOf(history);
    }

    /**
     * Returns the top-1 accuracy of the last epoch (what RepDistiller reports).
     *
     * @return percent, NaN when no epoch ran
     */
    public double lastTop1() {
        return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testTop1();
    }

    /**
     * Returns the top-5 accuracy of the last epoch.
     *
     * @return percent, NaN when no epoch ran
     */
    public double lastTop5() {
        return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testTop5();
    }

    /**
     * Returns the best top-1 accuracy over the epochs (what mdistiller reports).
     *
     * @return percent, NaN when no epoch ran
     */
    public double bestTop1() {
        int e = bestEpoch();
        return e < 1 ? Double.NaN : history.get(e - 1).testTop1();
    }

    /**
     * Returns the epoch (from 1) with the best top-1 accuracy; the earliest on ties.
     *
     * @return the epoch, or 0 when no epoch ran
     */
    public int bestEpoch() {
        int best = 0;
        double acc = Double.NEGATIVE_INFINITY;
        for (EpochMetrics m : history) {
            if (m.testTop1() > acc) {
                acc = m.testTop1();
                best = m.epoch();
            }
        }
        return best;
    }
}
