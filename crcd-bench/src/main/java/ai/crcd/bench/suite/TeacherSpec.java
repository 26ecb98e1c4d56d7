package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The teacher of a suite: trained once by the suite, or a given checkpoint reused.
 *
 * @param model the architecture, e.g. {@code "resnet56"}
 * @param checkpoint a trained checkpoint to reuse instead of training, or {@code null}
 * @param seed the seed of the teacher's training run; 0 if absent
 * @param overrides extra {@code key.path=value} overrides for the teacher's training run only
 * @param top1 the checkpoint's known top-1 (%), shown in the table when a checkpoint is reused
 */
public record TeacherSpec(
        @JsonProperty(value = "model", required = true) String model,
        @JsonProperty("checkpoint") String checkpoint,
        @JsonProperty("seed") Long seed,
        @JsonProperty("overrides") List<String> overrides,
        @JsonProperty("top1") Double top1) {

    /** Fills defaults. */
    public TeacherSpec {
        seed = seed == null ? 0L : seed;
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }

    /**
     * Returns the key under which this teacher is trained once and shared by pairs.
     *
     * @return a folder-safe key
     */
    public String key() {
        return checkpoint == null ? model + "-seed" + seed : model + "-given";
    }
}
