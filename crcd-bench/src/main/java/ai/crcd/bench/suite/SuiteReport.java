package ai.crcd.bench.suite;

import ai.crcd.bench.io.Csv;
import ai.crcd.train.run.AtomicFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The suite's Markdown table ({@code table.md}), computed from the rows of {@code results.csv}:
 * mean ± sample standard deviation of top-1 over seeds (last and best epoch) per method, teacher
 * and vanilla rows, gain over vanilla, and whether CRCD &gt; CRD &gt; KD holds relative to the seed
 * spread.
 */
public final class SuiteReport {

    private SuiteReport() {}

    /**
     * One row of the table: a method (or the teacher) of a pair, aggregated over seeds.
     *
     * @param pair the pair
     * @param role {@code teacher} or {@code student}
     * @param label the method label
     * @param method the method name
     * @param model the architecture
     * @param runs the number of finished runs (seeds)
     * @param lastMean mean last-epoch top-1 (%)
     * @param lastStd sample std of last-epoch top-1 (NaN for one run)
     * @param bestMean mean best-epoch top-1 (%)
     * @param bestStd sample std of best-epoch top-1
     * @param bestEpochMean mean epoch of the best top-1
     * @param secondsMean mean wall time per run
     */
    public record Row(
            String pair,
            String role,
            String label,
            String method,
            String model,
            int runs,
            double lastMean,
            double lastStd,
            double bestMean,
            double bestStd,
            double bestEpochMean,
            double secondsMean) {}

    /**
     * Aggregates the rows of {@code results.csv} by pair and label, in order of first appearance.
     *
     * @param results the table written by {@link SuiteCsv#results(List)}
     * @return one row per pair and label
     */
    public static List<Row> summarize(Csv results) {
        Map<String, List<Map<String, String>>> groups = new LinkedHashMap<>();
        for (Map<String, String> r : results.records()) {
            groups.computeIfAbsent(
                            r.get("pair") + "\u0000" + r.get("label"), k -> new ArrayList<>())
                    .add(r);
        }
        List<Row> rows = new ArrayList<>();
        for (List<Map<String, String>> g : groups.values()) {
            Map<String, String> f = g.get(0);
            List<Double> last = column(g, "last_top1");
            List<Double> best = column(g, "best_top1");
            rows.add(
                    new Row(
                            f.get("pair"),
                            f.get("role"),
                            f.get("label"),
                            f.get("method"),
                            f.get("model"),
                            g.size(),
                            Stats.mean(last),
                            Stats.sampleStd(last),
                            Stats.mean(best),
                            Stats.sampleStd(best),
                            Stats.mean(column(g, "best_epoch")),
                            Stats.mean(column(g, "seconds"))));
        }
        return rows;
    }

    private static List<Double> column(List<Map<String, String>> g, String key) {
        List<Double> out = new ArrayList<>();
        for (Map<String, String> r : g) {
            String v = r.get(key);
            if (v != null && !v.isEmpty()) {
                out.add(Double.parseDouble(v));
            }
        }
        return out;
    }

    /**
     * Writes {@code table.md} from the suite's {@code results.csv}.
     *
     * @param layout the suite's files
     * @param spec the suite
     * @param records the finished runs (only their count is used; the numbers come from the CSV)
     * @param complete whether every run has finished
     * @param total the number of runs in the suite
     * @throws IOException on a read or write error
     */
    public static void write(
            SuiteLayout layout,
            SuiteSpec spec,
            List<RunRecord> records,
            boolean complete,
            int total)
            throws IOException {
        Csv csv = Csv.read(layout.resultsCsv());
        int done =
                (int) records.stream().filter(r -> r.role().equals(RunRecord.ROLE_STUDENT)).count();
        int students = spec.seeds().size() * spec.pairList().size() * spec.methods().size();
        String status =
                complete
                        ? "complete: all " + total + " runs finished"
                        : "partial: "
                                + done
                                + " of "
                                + students
                                + " student runs finished, "
                                + missing(records, total)
                                + " of "
                                + total
                                + " runs missing; continue with --resume (or rerun the unfinished shards)";
        AtomicFiles.write(layout.tableMd(), markdown(spec, summarize(csv), status));
    }

    private static long missing(List<RunRecord> records, int total) {
        // a reused teacher ("given") is a row of the table but not a run of the suite; a teacher
        // shared by several pairs is one run with a row per pair
        long students =
                records.stream().filter(r -> r.role().equals(RunRecord.ROLE_STUDENT)).count();
        long teachers =
                records.stream()
                        .filter(
                                r ->
                                        r.role().equals(RunRecord.ROLE_TEACHER)
                                                && !"given".equals(r.method()))
                        .map(r -> r.model() + "-seed" + r.seed())
                        .distinct()
                        .count();
        return total - students - teachers;
    }

    /**
     * Renders the table and the verdict lines.
     *
     * @param spec the suite
     * @param rows the aggregated rows
     * @param status a line on completeness
     * @return Markdown text
     */
    public static String markdown(SuiteSpec spec, List<Row> rows, String status) {
        StringBuilder sb = new StringBuilder();
        sb.append("Suite `")
                .append(spec.name())
                .append("`: ")
                .append(status)
                .append(". Seeds ")
                .append(spec.seeds())
                .append("; top-1 in %, mean ± sample std over seeds.\n");
        for (PairSpec p : spec.pairList()) {
            List<Row> pr = rows.stream().filter(r -> r.pair().equals(p.name())).toList();
            sb.append("\n#### ")
                    .append(p.teacher().model())
                    .append(" → ")
                    .append(p.student())
                    .append("\n\n");
            sb.append(
                    "| row | method | runs | last top-1 | best top-1 | best epoch | gain over vanilla (last) "
                            + "| gain over vanilla (best) | s per run |\n");
            sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            Optional<Row> vanilla =
                    pr.stream()
                            .filter(
                                    r ->
                                            r.role().equals(RunRecord.ROLE_STUDENT)
                                                    && r.method().equals("vanilla"))
                            .findFirst();
            for (Row r : pr) {
                boolean teacher = r.role().equals(RunRecord.ROLE_TEACHER);
                String name = teacher ? "teacher (" + r.model() + ")" : r.label();
                String gainLast = "";
                String gainBest = "";
                if (!teacher && vanilla.isPresent() && vanilla.get() != r) {
                    gainLast = signed(r.lastMean() - vanilla.get().lastMean());
                    gainBest = signed(r.bestMean() - vanilla.get().bestMean());
                }
                sb.append("| ")
                        .append(name)
                        .append(" | ")
                        .append(r.method())
                        .append(" | ")
                        .append(r.runs())
                        .append(" | ")
                        .append(pm(r.lastMean(), r.lastStd()))
                        .append(" | ")
                        .append(pm(r.bestMean(), r.bestStd()))
                        .append(" | ")
                        .append(fmt(r.bestEpochMean(), 1))
                        .append(" | ")
                        .append(gainLast)
                        .append(" | ")
                        .append(gainBest)
                        .append(" | ")
                        .append(fmt(r.secondsMean(), 0))
                        .append(" |\n");
            }
            sb.append('\n');
            verdicts(sb, pr, vanilla);
        }
        return sb.toString();
    }

    private static void verdicts(StringBuilder sb, List<Row> pr, Optional<Row> vanilla) {
        List<Row> students =
                pr.stream().filter(r -> r.role().equals(RunRecord.ROLE_STUDENT)).toList();
        if (vanilla.isPresent()) {
            List<String> parts = new ArrayList<>();
            boolean all = true;
            for (Row r : students) {
                if (r == vanilla.get()) {
                    continue;
                }
                double d = r.lastMean() - vanilla.get().lastMean();
                all &= d > 0;
                parts.add(r.label() + " " + signed(d));
            }
            if (!parts.isEmpty()) {
                sb.append(
                                "- Every distillation method beats the vanilla student on mean last-epoch top-1: ")
                        .append(all ? "**yes**" : "**no**")
                        .append(" (")
                        .append(String.join(", ", parts))
                        .append(" points).\n");
            }
        }
        Row crcd = byMethod(students, "crcd");
        Row crd = byMethod(students, "crd_kd");
        if (crd == null) {
            crd = byMethod(students, "crd");
        }
        Row kd = byMethod(students, "kd");
        if (crcd == null || crd == null || kd == null) {
            sb.append(
                    "- CRCD > CRD > KD: not checked yet (no finished run of one of the methods crcd, crd/crd_kd, kd).\n");
            return;
        }
        boolean holds = crcd.lastMean() > crd.lastMean() && crd.lastMean() > kd.lastMean();
        sb.append("- ")
                .append(crcd.label())
                .append(" > ")
                .append(crd.label())
                .append(" > ")
                .append(kd.label())
                .append(" on mean last-epoch top-1: ")
                .append(holds ? "**holds**" : "**does not hold**")
                .append(". ")
                .append(gap(crcd, crd))
                .append("; ")
                .append(gap(crd, kd))
                .append(".\n");
    }

    private static String gap(Row a, Row b) {
        double d = a.lastMean() - b.lastMean();
        double spread = Math.sqrt((sq(a.lastStd()) + sq(b.lastStd())) / 2);
        String s = a.label() + " − " + b.label() + " = " + signed(d) + " points";
        if (Double.isNaN(spread) || spread == 0) {
            return s + " (seed spread not available)";
        }
        return s
                + String.format(
                        Locale.ROOT,
                        " = %.1f× the seed spread (pooled sample std %.2f)",
                        d / spread,
                        spread);
    }

    private static double sq(double x) {
        return x * x;
    }

    private static Row byMethod(List<Row> rows, String method) {
        return rows.stream().filter(r -> r.method().equals(method)).findFirst().orElse(null);
    }

    private static String pm(double mean, double std) {
        if (Double.isNaN(mean)) {
            return "–";
        }
        return Double.isNaN(std) ? fmt(mean, 2) : fmt(mean, 2) + " ± " + fmt(std, 2);
    }

    private static String signed(double d) {
        return String.format(Locale.ROOT, "%+.2f", d);
    }

    private static String fmt(double v, int digits) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
