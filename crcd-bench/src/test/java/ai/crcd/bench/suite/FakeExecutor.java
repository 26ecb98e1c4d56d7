package ai.crcd.bench.suite;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A test executor that trains nothing: it records the requests and returns a record whose
 * accuracies are a known function of the label and seed. Used to test the suite's bookkeeping
 * (resume, CSV, table) without training; the real loop is covered by SuiteTrainingIT-style tests.
 */
final class FakeExecutor implements RunExecutor {

    final List<RunRequest> requests = new ArrayList<>();
    final Map<String, Double> base;
    int failAfter = Integer.MAX_VALUE;

    FakeExecutor(Map<String, Double> base) {
        this.base = base;
    }

    static double top1(Map<String, Double> base, String label, long seed) {
        return base.get(label) + 0.5 * seed;
    }

    @Override
    public RunRecord execute(RunRequest r) {
        if (requests.size() >= failAfter) {
            throw new IllegalStateException("simulated kill");
        }
        requests.add(r);
        double last = top1(base, r.label(), r.seed());
        List<EpochRow> h =
                List.of(
                        new EpochRow(1, 0.1, Map.of("ce", 2.0), last - 10, last - 5, 1.0),
                        new EpochRow(2, 0.01, Map.of("ce", 1.0, "kd", 0.5), last, last + 5, 1.0));
        return new RunRecord(
                r.pair(),
                r.role(),
                r.label(),
                r.method(),
                r.model(),
                r.seed(),
                last,
                last,
                last + 5,
                2,
                2.0,
                r.role().equals(RunRecord.ROLE_TEACHER)
                        ? r.runDir().resolve("model.params").toString()
                        : null,
                h);
    }
}
