package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Appends one line per epoch (and one at the start and end of the run) to a log file in the run
 * folder; added from the CLI with the config key {@code output.log_file}, or from the library as an
 * example of a user listener.
 */
public final class EpochLogListener implements RunListener {

    private final String fileName;

    /**
     * Creates the listener.
     *
     * @param fileName a file name inside the run folder, e.g. {@code train.log}
     */
    public EpochLogListener(String fileName) {
        this.fileName = fileName;
    }

    @Override
    public void onRunBegin(RunContext run) {
        append(
                run,
                "begin "
                        + run.title()
                        + " on "
                        + run.device()
                        + " at epoch "
                        + (run.startEpoch() + 1));
    }

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        append(run, "epoch " + metrics.toRow());
    }

    @Override
    public void onInitEpoch(RunContext run, EpochMetrics metrics) {
        append(run, "init epoch " + metrics.toRow());
    }

    @Override
    public void onRunEnd(RunContext run, RunResult result) {
        append(
                run,
                "end after "
                        + result.history().size()
                        + " epochs, last top-1 "
                        + result.lastTop1());
    }

    private void append(RunContext run, String line) {
        Path file = run.dir().resolve(fileName);
        try {
            Files.writeString(
                    file,
                    Instant.now() + " " + line + System.lineSeparator(),
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
