package ai.crcd.bench.suite;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;

/**
 * {@code suite --list}: one line per run of a suite with its index, phase, position in the phase,
 * shard, state in the output folder (finished, claimed by a live process, stale claim, pending) and
 * folder. Reads the folder, writes nothing.
 */
public final class SuiteListing {

    private SuiteListing() {}

    /**
     * Prints the runs.
     *
     * @param spec the suite
     * @param out the suite folder (it may not exist yet)
     * @param shard only this shard's runs with its number of shards, or {@code null} for every run
     * @param ps where to print
     * @throws IOException on a read error
     */
    public static void print(SuiteSpec spec, java.nio.file.Path out, Shard shard, PrintStream ps)
            throws IOException {
        SuiteLayout layout = new SuiteLayout(out);
        SuitePlan plan = new SuitePlan(spec, layout);
        RunClaims claims = new RunClaims(out, RunClaims.DEFAULT_TIMEOUT, Shard.ALL, s -> {});
        int n = shard == null ? 1 : shard.count();
        ps.printf(
                "%-5s %-8s %-8s %-6s %-8s %s%n",
                "index", "phase", "position", "shard", "state", "run");
        int finished = 0;
        for (SuitePlan.Run r : plan.runs()) {
            int owner = r.position() % n;
            boolean done = Files.isRegularFile(r.dir().resolve(SuiteLayout.RECORD));
            finished += done ? 1 : 0;
            if (shard != null && owner != shard.index()) {
                continue;
            }
            String state;
            if (done) {
                state = "finished";
            } else {
                RunClaims.State st = claims.state(r.id());
                state = st.generation() == 0 ? "pending" : st.live() ? "running" : "stale";
                if (st.owner() != null && st.generation() > 0) {
                    state += " (" + st.owner().host() + " pid " + st.owner().pid() + ")";
                }
            }
            ps.printf(
                    "%-5d %-8s %-8d %-6s %-8s %s%n",
                    r.index(),
                    r.teacher() ? "teachers" : "students",
                    r.position(),
                    owner + "/" + n,
                    state,
                    r.id());
        }
        ps.printf(
                "%d runs (%d teachers, %d students), %d finished%n",
                plan.runs().size(),
                plan.runs().stream().filter(SuitePlan.Run::teacher).count(),
                plan.runs().stream().filter(r -> !r.teacher()).count(),
                finished);
    }
}
