package ai.crcd.bench.suite;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The runs of a suite in their fixed order, with the indices that {@code suite --list} prints and
 * that {@link Shard} splits: first every teacher the suite trains (pair order, each distinct
 * teacher once), then every student run (seed, then pair, then method, in the order of the suite
 * file). The order depends only on the suite, so all shards agree on it.
 */
public final class SuitePlan {

    /**
     * One run of the plan.
     *
     * @param index the run's index in the suite, from 0
     * @param position the run's position within its phase (teachers or students), from 0
     * @param role {@link RunRecord#ROLE_TEACHER} or {@link RunRecord#ROLE_STUDENT}
     * @param pair the pair (for a teacher: the first pair that uses it)
     * @param method the method of a student run, {@code null} for a teacher
     * @param seed the run's seed
     * @param dir the run's folder
     * @param id the run's folder relative to the suite folder, with {@code /} (claims use it)
     */
    public record Run(
            int index,
            int position,
            String role,
            PairSpec pair,
            MethodSpec method,
            long seed,
            Path dir,
            String id) {

        /**
         * Returns the method label, or {@code teacher}.
         *
         * @return the label
         */
        public String label() {
            return method == null ? SuiteLayout.TEACHER : method.label();
        }

        /**
         * Whether this is a teacher's training run.
         *
         * @return {@code true} for a teacher
         */
        public boolean teacher() {
            return method == null;
        }
    }

    private final List<Run> runs;

    /**
     * Plans a suite.
     *
     * @param spec the suite
     * @param layout where its files go
     */
    public SuitePlan(SuiteSpec spec, SuiteLayout layout) {
        List<Run> all = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int pos = 0;
        for (PairSpec p : spec.pairList()) {
            TeacherSpec t = p.teacher();
            if (t.checkpoint() == null && seen.add(t.key())) {
                all.add(
                        run(
                                all.size(),
                                pos++,
                                RunRecord.ROLE_TEACHER,
                                p,
                                null,
                                t.seed(),
                                layout.teacherDir(t),
                                layout));
            }
        }
        pos = 0;
        for (long seed : spec.seeds()) {
            for (PairSpec p : spec.pairList()) {
                for (MethodSpec m : spec.methods()) {
                    all.add(
                            run(
                                    all.size(),
                                    pos++,
                                    RunRecord.ROLE_STUDENT,
                                    p,
                                    m,
                                    seed,
                                    layout.runDir(p.name(), m.label(), seed),
                                    layout));
                }
            }
        }
        this.runs = List.copyOf(all);
    }

    private static Run run(
            int index,
            int pos,
            String role,
            PairSpec p,
            MethodSpec m,
            long seed,
            Path dir,
            SuiteLayout layout) {
        String id = layout.out().relativize(dir).toString().replace('\\', '/');
        return new Run(index, pos, role, p, m, seed, dir, id);
    }

    /**
     * Returns every run in order.
     *
     * @return the runs
     */
    public List<Run> runs() {
        return runs;
    }

    /**
     * Returns the runs a shard performs in a phase, in order.
     *
     * @param phase the phase
     * @param shard the shard
     * @return the runs
     */
    public List<Run> select(SuitePhase phase, Shard shard) {
        return runs.stream()
                .filter(r -> phase.includes(r.role()) && shard.owns(r.position()))
                .toList();
    }

    /**
     * Returns the teacher run of a pair, or {@code null} when the pair reuses a given checkpoint.
     *
     * @param pair the pair
     * @return the teacher's run
     */
    public Run teacherOf(PairSpec pair) {
        if (pair.teacher().checkpoint() != null) {
            return null;
        }
        return runs.stream()
                .filter(r -> r.teacher() && r.pair().teacher().key().equals(pair.teacher().key()))
                .findFirst()
                .orElseThrow();
    }
}
