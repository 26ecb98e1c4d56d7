package ai.crcd.bench.suite;

/**
 * One shard of a suite, {@code K/N}: shard {@code K} (from 0) of {@code N} takes every run whose
 * position within its phase is {@code K} modulo {@code N}. The assignment depends only on the suite
 * file, so every process of a job array computes the same split without talking to the others.
 *
 * @param index the shard's index K, {@code 0 <= K < N}
 * @param count the number of shards N, at least 1
 */
public record Shard(int index, int count) {

    /** The whole suite as one shard. */
    public static final Shard ALL = new Shard(0, 1);

    /** Checks the range. */
    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException(
                    "--shard: got "
                            + index
                            + "/"
                            + count
                            + ", allowed: K/N with N >= 1 and 0 <= K < N (e.g. 0/4 for the first of four shards)");
        }
    }

    /**
     * Parses {@code K/N}.
     *
     * @param text e.g. {@code "2/4"}
     * @return the shard
     * @throws IllegalArgumentException naming the option and the expected form
     */
    public static Shard parse(String text) {
        String[] p = text == null ? new String[0] : text.trim().split("/", -1);
        if (p.length == 2) {
            try {
                return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(
                "--shard: got '"
                        + text
                        + "', allowed: K/N, e.g. 0/4 (a job array passes its task index, e.g. $SLURM_ARRAY_TASK_ID/4)");
    }

    /**
     * Whether this shard takes the run at a position of its phase.
     *
     * @param positionInPhase the run's position among the runs of its phase, from 0
     * @return {@code true} for this shard's runs
     */
    public boolean owns(int positionInPhase) {
        return positionInPhase % count == index;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
