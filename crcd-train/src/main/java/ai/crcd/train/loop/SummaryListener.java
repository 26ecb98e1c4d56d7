package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import ai.crcd.train.run.RunFiles;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Rewrites {@code summary.md} after every epoch and at the end of the run. */
public final class SummaryListener implements RunListener {

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        write(run, new RunResult(run.history(), run.dir()));
    }

    @Override
    public void onRunEnd(RunContext run, RunResult result) {
        if (result.history().size() == run.config().optim.epochs) {
            write(run, result);
        }
    }

    private static void write(RunContext run, RunResult result) {
        try {
            RunFiles.writeSummary(run.dir(), run.title(), result, run.summaryLines());
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
