package ai.crcd.train.run;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.TrainingException;
import ai.crcd.train.config.RunConfig;
import java.util.List;
import java.util.Locale;

/**
 * Stops a run whose training has gone wrong, before the bad epoch's checkpoint is written, so the
 * checkpoint of the last good epoch is kept. Plain Java over the per-step loss rows the loop copies
 * to the host anyway; it holds no arrays, so it can sit behind any loop (a DJL {@code
 * TrainingListener} calls {@link #beginEpoch} from {@code onEpoch}/{@code onTrainingBegin}, {@link
 * #step}/{@link #skipped} from {@code onTrainingBatch} and {@link #endEpoch} before the checkpoint
 * is saved).
 *
 * <p>It trips (a {@link TrainingException}, one line, exit status 1) when:
 *
 * <ul>
 *   <li>a step's loss term is not finite, with {@code nan_policy: stop};
 *   <li>with {@code nan_policy: skip}, an epoch has skipped more than {@code guard.nan_skip_limit}
 *       of its steps, or all of them;
 *   <li>a step's total loss exceeds {@code guard.divergence_factor} times the reference: the first
 *       epoch's mean total loss (during the first epoch, the mean of its first {@code
 *       guard.reference_steps} steps), taken as at least 1;
 *   <li>a step's total loss exceeds {@code guard.max_loss}, whatever the reference (a run that
 *       diverges from its first step has no useful reference).
 * </ul>
 *
 * <p>The reference depends only on the run's history, so a resumed run trips exactly where the
 * uninterrupted run would.
 */
public final class LossGuard {

    private final RunConfig.Guard cfg;
    private final boolean skipPolicy;

    private int epoch;
    private int steps;
    private int applied;
    private int skipped;
    private double reference = Double.NaN;
    private String referenceName;
    private double earlySum;
    private int earlyCount;

    /**
     * Creates the guard.
     *
     * @param cfg the thresholds (validated)
     * @param skipPolicy whether non-finite steps are skipped ({@code nan_policy: skip}) rather than
     *     stopping the run
     */
    public LossGuard(RunConfig.Guard cfg, boolean skipPolicy) {
        this.cfg = cfg;
        this.skipPolicy = skipPolicy;
    }

    /**
     * Starts an epoch.
     *
     * @param epoch the epoch, counted from 0 (= the number of completed epochs, whose checkpoint is
     *     the last good one)
     * @param steps the epoch's steps
     * @param history the completed epochs (the first one's mean loss is the reference)
     */
    public void beginEpoch(int epoch, int steps, List<EpochMetrics> history) {
        this.epoch = epoch;
        this.steps = steps;
        this.applied = 0;
        this.skipped = 0;
        if (!history.isEmpty() && Double.isFinite(history.get(0).trainLoss())) {
            reference = history.get(0).trainLoss();
            referenceName = "the first epoch's mean loss";
        }
    }

    /**
     * Checks an applied step.
     *
     * @param stepInEpoch the step, counted from 1
     * @param names the loss terms' names
     * @param terms the step's weighted loss terms, in the order of {@code names}
     * @throws TrainingException if a term is not finite or the total diverged
     */
    public void step(int stepInEpoch, List<String> names, float[] terms) {
        applied++;
        double total = 0;
        int largest = 0;
        for (int i = 0; i < terms.length; i++) {
            if (!Float.isFinite(terms[i])) {
                throw new TrainingException(
                        String.format(
                                Locale.ROOT,
                                "non-finite loss at epoch %d step %d: term '%s' = %s; %s. Lower"
                                        + " optim.lr or set nan_policy: skip",
                                epoch + 1,
                                stepInEpoch,
                                names.get(i),
                                terms[i],
                                kept()));
            }
            total += terms[i];
            if (Math.abs(terms[i]) > Math.abs(terms[largest])) {
                largest = i;
            }
        }
        double magnitude = Math.abs(total);
        if (cfg.maxLoss > 0 && magnitude > cfg.maxLoss) {
            throw diverged(
                    stepInEpoch,
                    total,
                    names.get(largest),
                    terms[largest],
                    String.format(Locale.ROOT, "guard.max_loss = %.4g", cfg.maxLoss),
                    "raise guard.max_loss (0 = off)");
        }
        if (Double.isNaN(reference) && earlyCount < cfg.referenceSteps) {
            earlySum += total;
            if (++earlyCount == cfg.referenceSteps) {
                reference = earlySum / earlyCount;
                referenceName = "the mean loss of the first " + earlyCount + " steps";
            }
            return;
        }
        double threshold = cfg.divergenceFactor * Math.max(Math.abs(reference), 1.0);
        if (cfg.divergenceFactor > 0 && magnitude > threshold) {
            throw diverged(
                    stepInEpoch,
                    total,
                    names.get(largest),
                    terms[largest],
                    String.format(
                            Locale.ROOT,
                            "%.4g x %.4g, guard.divergence_factor times %s",
                            cfg.divergenceFactor,
                            Math.max(Math.abs(reference), 1.0),
                            referenceName),
                    "raise guard.divergence_factor (0 = off)");
        }
    }

    /**
     * Counts a skipped step ({@code nan_policy: skip}).
     *
     * @param stepInEpoch the step, counted from 1
     * @throws TrainingException as soon as the epoch has skipped more than the limit
     */
    public void skipped(int stepInEpoch) {
        skipped++;
        if (skipped > cfg.nanSkipLimit * steps) {
            throw new TrainingException(
                    String.format(
                            Locale.ROOT,
                            "epoch %d skipped %d of its first %d steps (non-finite loss, nan_policy:"
                                    + " skip), more than guard.nan_skip_limit = %s of its %d steps;"
                                    + " %s. Lower optim.lr, or raise guard.nan_skip_limit",
                            epoch + 1,
                            skipped,
                            stepInEpoch,
                            cfg.nanSkipLimit,
                            steps,
                            kept()));
        }
    }

    /**
     * Ends an epoch; call before its checkpoint is written.
     *
     * @throws TrainingException if no step of the epoch was applied
     */
    public void endEpoch() {
        if (applied == 0) {
            throw new TrainingException(
                    String.format(
                            Locale.ROOT,
                            "epoch %d applied none of its %d steps%s; %s",
                            epoch + 1,
                            steps,
                            skipPolicy ? " (all skipped: non-finite loss)" : "",
                            kept()));
        }
    }

    private TrainingException diverged(
            int stepInEpoch, double total, String term, float value, String limit, String off) {
        return new TrainingException(
                String.format(
                        Locale.ROOT,
                        "loss diverged at epoch %d step %d: total %.4g (largest term '%s' = %.4g)"
                                + " > %s; %s. Lower optim.lr or check the method's options (e.g."
                                + " a temperature), or %s",
                        epoch + 1,
                        stepInEpoch,
                        total,
                        term,
                        value,
                        limit,
                        kept(),
                        off));
    }

    private String kept() {
        return epoch == 0
                ? "no checkpoint was written (the first epoch did not complete)"
                : "the last good checkpoint (epoch " + epoch + ") was kept";
    }
}
