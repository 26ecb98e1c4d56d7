package ai.crcd.bench.suite;

import ai.crcd.bench.io.Csv;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The suite's two CSV files: one row per run, and one row per run and epoch. */
public final class SuiteCsv {

    /** Columns of {@code results.csv}. */
    public static final List<String> RESULTS_HEADER =
            List.of(
                    "pair",
                    "role",
                    "label",
                    "method",
                    "model",
                    "seed",
                    "last_top1",
                    "best_top1",
                    "last_top5",
                    "best_epoch",
                    "epochs",
                    "seconds",
                    "checkpoint");

    /**
     * Fixed columns of {@code per_epoch.csv}; one {@code loss_<term>} column per loss term follows.
     */
    public static final List<String> PER_EPOCH_HEADER =
            List.of(
                    "pair",
                    "role",
                    "label",
                    "method",
                    "seed",
                    "epoch",
                    "lr",
                    "test_top1",
                    "test_top5",
                    "seconds");

    private SuiteCsv() {}

    /**
     * Returns one row per run.
     *
     * @param records the finished runs
     * @return the table
     */
    public static Csv results(List<RunRecord> records) {
        Csv csv = new Csv(RESULTS_HEADER);
        for (RunRecord r : records) {
            csv.add(
                    List.of(
                            r.pair(),
                            r.role(),
                            r.label(),
                            r.method(),
                            r.model(),
                            r.seed(),
                            num(r.lastTop1()),
                            num(r.bestTop1()),
                            num(r.lastTop5()),
                            r.bestEpoch(),
                            r.history().size(),
                            num(r.seconds()),
                            r.checkpoint() == null ? "" : r.checkpoint()));
        }
        return csv;
    }

    /**
     * Returns one row per run and epoch, with the union of the loss terms as columns ({@code
     * loss_ce}, the other terms by name, {@code loss_total}).
     *
     * @param records the finished runs
     * @return the table
     */
    public static Csv perEpoch(List<RunRecord> records) {
        // a fixed column order (ce, the other terms by name, total), whatever the records' map
        // order: the same runs give the same file in every process
        Set<String> terms =
                new TreeSet<>(
                        Comparator.comparing(
                                        (String t) ->
                                                t.equals("ce") ? 0 : t.equals("total") ? 2 : 1)
                                .thenComparing(Comparator.naturalOrder()));
        for (RunRecord r : records) {
            for (EpochRow e : r.history()) {
                terms.addAll(e.losses().keySet());
            }
        }
        List<String> header = new ArrayList<>(PER_EPOCH_HEADER);
        for (String t : terms) {
            header.add("loss_" + t);
        }
        Csv csv = new Csv(header);
        for (RunRecord r : records) {
            for (EpochRow e : r.history()) {
                List<Object> row =
                        new ArrayList<>(
                                List.of(
                                        r.pair(),
                                        r.role(),
                                        r.label(),
                                        r.method(),
                                        r.seed(),
                                        e.epoch(),
                                        num(e.lr()),
                                        num(e.top1()),
                                        num(e.top5()),
                                        num(e.seconds())));
                for (String t : terms) {
                    Double v = e.losses().get(t);
                    row.add(v == null ? "" : num(v));
                }
                csv.add(row);
            }
        }
        return csv;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }
}
