package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.model.ModelSnapshots;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes the student as DJL model folders after every epoch: {@code RUN/model} (last epoch) and
 * {@code RUN/best} (best test top-1 so far), with the metadata that loading needs. Runs before the
 * checkpoint listener, so a checkpoint never names an epoch whose folders are missing.
 */
public final class ModelSnapshotListener implements RunListener {

    private ModelSnapshots snapshots;

    @Override
    public void onRunBegin(RunContext run) {
        snapshots =
                new ModelSnapshots(
                        run.dir(),
                        ModelInfo.forSplit(run.config().model.name, run.config().kind, run.train()),
                        new RunResult(run.history(), run.dir()).bestTop1());
    }

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        try {
            snapshots.epochEnd(run.step().network().student(), metrics.epoch(), metrics.testTop1());
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
