package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.run.RunFiles;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Rewrites {@code metrics.csv} and {@code metrics.jsonl} (snake_case keys) after every epoch, and
 * {@code init_metrics.csv}/{@code .jsonl} after every epoch of a method's init stage.
 */
public final class MetricsListener implements RunListener {

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        try {
            RunFiles.writeMetrics(run.dir(), run.history());
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onInitEpoch(RunContext run, EpochMetrics metrics) {
        try {
            RunFiles.writeInitMetrics(run.dir(), run.initHistory());
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
