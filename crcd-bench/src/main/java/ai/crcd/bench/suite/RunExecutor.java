package ai.crcd.bench.suite;

/**
 * Performs one training run of a suite. The production implementation is {@link
 * TrainingRunExecutor} (crcd-train's loop); tests may count or interrupt runs.
 */
@FunctionalInterface
public interface RunExecutor {

    /**
     * Trains, evaluates and returns the run's record (the suite writes it to the run folder).
     *
     * @param request what to run and where
     * @return the finished run's record
     * @throws Exception if the run fails
     */
    RunRecord execute(RunRequest request) throws Exception;
}
