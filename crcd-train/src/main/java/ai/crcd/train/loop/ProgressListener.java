package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.run.Progress;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The throttled progress line during an epoch and one line after it; during a method's init stage
 * its own line ({@code <label> init epoch e/E step s/S ...}) and {@code init epoch} lines.
 */
public final class ProgressListener implements RunListener {

    private final PrintStream out;
    private Progress progress;
    private Progress initProgress;
    private boolean lastInInit;
    private double lastLoss = Double.NaN;

    /**
     * Creates the listener.
     *
     * @param out where to print (stderr in the CLI)
     */
    public ProgressListener(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onRunBegin(RunContext run) {
        int steps = run.train().loader().batchesPerEpoch();
        progress =
                new Progress(
                        out,
                        run.label(),
                        run.config().optim.epochs,
                        steps,
                        run.config().output.progressSeconds);
        progress.resumedAt((long) run.startEpoch() * steps);
    }

    @Override
    public void onStepsSynced(RunContext run, StepLog log) {
        List<float[]> rows = log.rows();
        lastLoss = log.total(rows.get(rows.size() - 1));
    }

    @Override
    public void onEpochBegin(RunContext run, int epoch) {
        if (run.inInitStage() != lastInInit) { // the init stage's loss is not the main one's
            lastLoss = Double.NaN;
            lastInInit = run.inInitStage();
        }
    }

    @Override
    public void onStep(RunContext run, int epoch, int stepInEpoch, int images, long nanos) {
        if (run.inInitStage()) {
            if (initProgress == null) {
                int steps = run.train().loader().batchesPerEpoch();
                initProgress =
                        new Progress(
                                out,
                                run.label() + " init",
                                run.initEpochs(),
                                steps,
                                run.config().output.progressSeconds);
                initProgress.resumedAt((long) run.initStartEpoch() * steps);
            }
            initProgress.update(epoch + 1, stepInEpoch, 1, images, nanos, lastLoss);
            return;
        }
        progress.update(epoch + 1, stepInEpoch, 1, images, nanos, lastLoss);
    }

    @Override
    public void onInitEpoch(RunContext run, EpochMetrics m) {
        progress.epochLine(
                String.format(
                        Locale.ROOT,
                        "init epoch %d/%d lr %.4g loss %.4f train top-1 %.2f (%.1fs)",
                        m.epoch(),
                        run.initEpochs(),
                        m.lr(),
                        m.trainLoss(),
                        m.trainTop1(),
                        m.seconds()));
    }

    @Override
    public void onEpoch(RunContext run, EpochMetrics m) {
        progress.epochLine(
                String.format(
                        Locale.ROOT,
                        "epoch %d/%d lr %.4g loss %.4f train top-1 %.2f test loss %.4f top-1 %.2f"
                                + " top-5 %.2f (%.1fs)",
                        m.epoch(),
                        run.config().optim.epochs,
                        m.lr(),
                        m.trainLoss(),
                        m.trainTop1(),
                        m.testLoss(),
                        m.testTop1(),
                        m.testTop5(),
                        m.seconds()));
    }
}
