package ai.crcd.train.loop;

import ai.crcd.train.RunResult;
import ai.crcd.train.run.ParameterFiles;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes the trained student to {@code model.params} when the run has done all its epochs. */
public final class FinalModelListener implements RunListener {

    /** File name of the trained network's parameters in the run folder. */
    public static final String MODEL_FILE = "model.params";

    @Override
    public void onRunEnd(RunContext run, RunResult result) {
        if (result.history().size() != run.config().optim.epochs) {
            return;
        }
        try {
            ParameterFiles.save(run.step().network().student(), run.dir().resolve(MODEL_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
