package ai.crcd.bench.suite;

import java.nio.file.Path;
import java.util.List;

/**
 * One training run the suite asks a {@link RunExecutor} to perform.
 *
 * @param pair the pair's name
 * @param role {@link RunRecord#ROLE_TEACHER} or {@link RunRecord#ROLE_STUDENT}
 * @param label the method label ({@code "teacher"} for a teacher)
 * @param method the distillation method ({@code "train"} for a teacher)
 * @param model the architecture to train
 * @param seed the seed
 * @param configYaml the complete run config as YAML text (base merged with the run's settings)
 * @param overrides {@code key.path=value} overrides applied on top, in order
 * @param runDir the run's output folder
 * @param resume whether to continue an interrupted run found in {@code runDir}
 */
public record RunRequest(
        String pair,
        String role,
        String label,
        String method,
        String model,
        long seed,
        String configYaml,
        List<String> overrides,
        Path runDir,
        boolean resume) {

    /** Copies the overrides. */
    public RunRequest {
        overrides = List.copyOf(overrides);
    }
}
