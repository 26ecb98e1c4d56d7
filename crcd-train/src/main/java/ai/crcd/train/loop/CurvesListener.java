package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.run.RunFiles;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Redraws {@code curves.png} (test accuracy, training loss terms) after every epoch. */
public final class CurvesListener implements RunListener {

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        try {
            RunFiles.writeCurves(run.dir(), run.title(), run.history());
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
