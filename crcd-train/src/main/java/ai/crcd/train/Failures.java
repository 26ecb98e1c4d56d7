package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Locale;

/**
 * Turns whatever stopped a command into one line on stderr and an exit status: a bad config or
 * environment (config, files, folders, a full disk, too little memory) is status 2, a training
 * failure (non-finite loss) status 1, and any other exception status 2 with its full stack trace
 * written to a log file ({@value #LOG_FILE} in the run folder when it exists, else a temp file)
 * whose path the line names.
 */
public final class Failures {

    /** Name of the file in the run folder that receives unexpected stack traces. */
    public static final String LOG_FILE = "error.log";

    private Failures() {}

    /**
     * Reports a failure.
     *
     * @param e what was thrown
     * @param runDir the run folder, or {@code null} if the command has none (yet)
     * @param err where the line goes
     * @return the exit status
     */
    public static int report(Throwable e, Path runDir, PrintStream err) {
        if (e instanceof ConfigException) {
            err.println("config error: " + oneLine(e.getMessage()));
            return Main.EXIT_CONFIG;
        }
        if (e instanceof TrainingException) {
            err.println("training failed: " + oneLine(e.getMessage()));
            return Main.EXIT_FAILED;
        }
        Throwable io = e instanceof UncheckedIOException && e.getCause() != null ? e.getCause() : e;
        if (io instanceof IOException) {
            err.println("error: " + describeIo((IOException) io));
            return Main.EXIT_CONFIG;
        }
        String hint = "";
        if (e instanceof OutOfMemoryError) {
            hint =
                    "; the JVM ran out of heap: give it more with java -Xmx... or lower"
                            + " data.batch_size";
        } else if (String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("allocate")) {
            hint =
                    "; the engine could not allocate memory: lower data.batch_size or the method's"
                            + " sizes (distill.options)";
        }
        Path log = writeLog(e, runDir);
        err.println(
                "internal error: "
                        + e.getClass().getSimpleName()
                        + ": "
                        + firstLine(e.getMessage())
                        + hint
                        + (log == null
                                ? " (the stack trace could not be written to a log file)"
                                : " (full stack trace in " + log + ")"));
        return Main.EXIT_CONFIG;
    }

    /** An I/O failure as one line: the file and what went wrong. */
    static String describeIo(IOException e) {
        if (e instanceof AccessDeniedException) {
            return e.getMessage()
                    + ": permission denied (fix its permissions or choose another"
                    + " output.dir)";
        }
        if (e instanceof NoSuchFileException) {
            return e.getMessage() + ": no such file or folder";
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return oneLine(m);
    }

    /**
     * Writes the stack trace to the run folder's log file, or a temp file if that fails.
     *
     * @return the log file, or null if none could be written
     */
    static Path writeLog(Throwable e, Path runDir) {
        StringWriter sw = new StringWriter();
        sw.append("---- ").append(Instant.now().toString()).append('\n');
        e.printStackTrace(new PrintWriter(sw));
        byte[] text = sw.toString().getBytes(StandardCharsets.UTF_8);
        if (runDir != null && Files.isDirectory(runDir)) {
            Path f = runDir.resolve(LOG_FILE);
            try {
                Files.write(f, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                return f.toAbsolutePath();
            } catch (IOException | RuntimeException ignored) {
                // fall back to a temp file
            }
        }
        try {
            Path f = Files.createTempFile("crcd-train-error-", ".log");
            Files.write(f, text);
            return f.toAbsolutePath();
        } catch (IOException | RuntimeException ignored) {
            return null;
        }
    }

    /**
     * Collapses a message to one line.
     *
     * @param message the message, may be null
     * @return one line
     */
    public static String oneLine(String message) {
        return message == null ? "(no details)" : message.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    private static String firstLine(String message) {
        if (message == null || message.isBlank()) {
            return "(no message)";
        }
        String first = message.strip().lines().findFirst().orElse("");
        return first.length() > 300 ? first.substring(0, 300) + "..." : first;
    }
}
