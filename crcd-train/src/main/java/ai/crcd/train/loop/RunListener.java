package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;

/**
 * Something that reacts to the stages of a crcd-train run, in the style of DJL's {@code
 * TrainingListener}: metrics files, curves, the summary, the progress line, checkpoints and the NaN
 * policy are each one listener (see {@link StandardListeners}); a user adds their own with {@code
 * TrainingRun.builder(..).addListener(..)}, or a per-epoch log file with the config key {@code
 * output.log_file}.
 *
 * <p>Listeners are called in the order they were added, on the training thread. An exception thrown
 * by a listener stops the run (the NaN policy stops a run this way).
 */
public interface RunListener {

    /**
     * Called once, after setup (and after restoring a checkpoint), before the first epoch.
     *
     * @param run the run
     */
    default void onRunBegin(RunContext run) {}

    /**
     * Called at the start of every epoch, before its first step.
     *
     * @param run the run ({@code run.history()} holds the completed epochs)
     * @param epoch the epoch, from 0
     */
    default void onEpochBegin(RunContext run, int epoch) {}

    /**
     * Called after every training step, without any host copy.
     *
     * @param run the run
     * @param epoch the epoch, from 0
     * @param stepInEpoch the step within the epoch, from 1
     * @param images the images of this step
     * @param nanos wall time of the step
     */
    default void onStep(RunContext run, int epoch, int stepInEpoch, int images, long nanos) {}

    /**
     * Called once per log interval with the host copy of the steps since the last call.
     *
     * @param run the run
     * @param log the steps' loss terms and hits
     */
    default void onStepsSynced(RunContext run, StepLog log) {}

    /**
     * Called when a step was skipped because a loss term was not finite ({@code nan_policy: skip}).
     *
     * @param run the run
     * @param epoch the epoch, from 0
     * @param stepInEpoch the step within the epoch, from 1
     * @param terms the step's term values by name
     */
    default void onStepSkipped(
            RunContext run, int epoch, int stepInEpoch, java.util.Map<String, Float> terms) {}

    /**
     * Called after each epoch's training and evaluation; {@code run.history()} already holds it.
     *
     * @param run the run
     * @param metrics the epoch's metrics
     */
    default void onEpoch(RunContext run, EpochMetrics metrics) {}

    /**
     * Called after each epoch of the method's init stage (before the main epochs); {@code
     * run.initHistory()} already holds it. During the init stage the step-level calls ({@link
     * #onEpochBegin}, {@link #onStep}, {@link #onStepsSynced}, {@link #onStepSkipped}) carry the
     * init epoch and {@code run.inInitStage()} is true; {@link #onEpoch} is for main epochs only.
     *
     * @param run the run
     * @param metrics the init epoch's metrics: epoch from 1, lr, train terms, loss and top-1 (test
     *     columns NaN)
     */
    default void onInitEpoch(RunContext run, EpochMetrics metrics) {}

    /**
     * Called once when the loop ends (all epochs done, or stopped early by the test hook).
     *
     * @param run the run
     * @param result the metrics of every epoch so far
     */
    default void onRunEnd(RunContext run, RunResult result) {}
}
