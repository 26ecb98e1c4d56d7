package ai.crcd.bench;

import ai.crcd.train.run.AtomicFiles;
import ai.djl.engine.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** A one-line description of the machine a benchmark ran on, stored next to its results. */
public final class Machine {

    /** The file name of the description inside a results folder. */
    public static final String FILE = "machine.md";

    private Machine() {}

    /**
     * Describes this machine: date (UTC), processors (as {@code nproc} counts them), CPU model from
     * {@code /proc/cpuinfo}, OS, Java and DJL engine versions, GPUs the engine sees.
     *
     * @return one line of Markdown
     */
    public static String describe() {
        String date =
                ZonedDateTime.now(ZoneOffset.UTC)
                        .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        String engine;
        int gpus;
        try {
            Engine e = Engine.getInstance();
            engine = e.getEngineName() + " " + e.getVersion();
            gpus = e.getGpuCount();
        } catch (RuntimeException ex) {
            engine = "engine unavailable (" + ex.getMessage() + ")";
            gpus = 0;
        }
        return String.format(
                "%s; nproc %d; CPU %s; %s %s; Java %s; DJL %s, %d GPU(s) visible",
                date,
                Runtime.getRuntime().availableProcessors(),
                cpuModel(),
                System.getProperty("os.name"),
                System.getProperty("os.arch"),
                System.getProperty("java.version"),
                engine,
                gpus);
    }

    /**
     * Returns the CPU model name from {@code /proc/cpuinfo}, or "unknown".
     *
     * @return the model
     */
    public static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String l : lines) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return "unknown";
    }

    /**
     * Writes {@link #describe()} into a results folder.
     *
     * @param dir the folder
     * @throws IOException on a write error
     */
    public static void write(Path dir) throws IOException {
        AtomicFiles.write(dir.resolve(FILE), describe() + "\n");
    }
}
