package ai.crcd.bench.suite;

import ai.crcd.train.run.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of one finished run of a suite (a teacher or a student), kept as {@code record.json}
 * in the run's folder. Its presence marks the run as finished.
 *
 * @param pair the pair's name
 * @param role {@code "teacher"} or {@code "student"}
 * @param label the method label ({@code "teacher"} for a teacher)
 * @param method the distillation method ({@code "train"} for a teacher)
 * @param model the architecture trained
 * @param seed the run's seed
 * @param lastTop1 test top-1 (%) after the last epoch
 * @param bestTop1 the best test top-1 (%) over the epochs
 * @param lastTop5 test top-5 (%) after the last epoch
 * @param bestEpoch the epoch (from 1) of the best top-1
 * @param seconds the run's wall time
 * @param checkpoint the trained parameters' file (teachers: what students load), or {@code null}
 * @param history per-epoch metrics
 */
public record RunRecord(
        @JsonProperty("pair") String pair,
        @JsonProperty("role") String role,
        @JsonProperty("label") String label,
        @JsonProperty("method") String method,
        @JsonProperty("model") String model,
        @JsonProperty("seed") long seed,
        @JsonProperty("last_top1") double lastTop1,
        @JsonProperty("best_top1") double bestTop1,
        @JsonProperty("last_top5") double lastTop5,
        @JsonProperty("best_epoch") int bestEpoch,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("checkpoint") String checkpoint,
        @JsonProperty("history") List<EpochRow> history) {

    /** Role of a teacher's record. */
    public static final String ROLE_TEACHER = "teacher";

    /** Role of a student's record. */
    public static final String ROLE_STUDENT = "student";

    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Fills defaults. */
    public RunRecord {
        history = history == null ? List.of() : List.copyOf(history);
    }

    /**
     * Returns a copy placed under another pair (a teacher shared by several pairs).
     *
     * @param otherPair the pair's name
     * @return the copy
     */
    public RunRecord withPair(String otherPair) {
        return new RunRecord(
                otherPair,
                role,
                label,
                method,
                model,
                seed,
                lastTop1,
                bestTop1,
                lastTop5,
                bestEpoch,
                seconds,
                checkpoint,
                history);
    }

    /**
     * Writes the record atomically.
     *
     * @param file the target, normally {@code <run dir>/record.json}
     * @throws IOException on a write error
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this));
    }

    /**
     * Reads a record.
     *
     * @param file the file
     * @return the record
     * @throws IOException on a read error or malformed JSON
     */
    public static RunRecord read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), RunRecord.class);
    }
}
