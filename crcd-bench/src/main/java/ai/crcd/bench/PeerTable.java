package ai.crcd.bench;

import ai.crcd.bench.io.Csv;
import ai.crcd.bench.suite.Stats;
import ai.crcd.train.run.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table of {@code SuiteMain peer}: per method the step time of crcd and of the PyTorch-eager
 * peer (median, p25-p75), the ratio crcd / PyTorch, each one's ratio to KD, the multiply-adds per
 * step and the rate each achieves (G multiply-adds per second of the median step).
 *
 * @param setup the lines describing the run (pair, batch, threads, versions), Markdown
 * @param rows one row per method, in order
 */
public record PeerTable(String setup, List<Row> rows) {

    /** The KD row's label: the ratios to KD are against it. */
    public static final String KD = "KD";

    /** Copies the rows. */
    public PeerTable {
        rows = List.copyOf(rows);
    }

    /**
     * One side's step times of a method.
     *
     * @param medianMs the median (ms)
     * @param p25Ms the 25th percentile (ms)
     * @param p75Ms the 75th percentile (ms)
     * @param steps the number of timed steps
     */
    public record Timing(double medianMs, double p25Ms, double p75Ms, int steps) {

        /**
         * Summarises step times.
         *
         * @param ms the times (ms), at least one
         * @return median and quartiles (linear interpolation between order statistics)
         */
        public static Timing of(List<Double> ms) {
            if (ms.isEmpty()) {
                throw new IllegalArgumentException("peer table: no step time");
            }
            return new Timing(
                    Stats.median(ms),
                    StepBench.percentile(ms, 0.25),
                    StepBench.percentile(ms, 0.75),
                    ms.size());
        }

        /**
         * Returns the achieved rate.
         *
         * @param macs multiply-adds per step
         * @return G multiply-adds per second at the median step time
         */
        public double gmacPerSecond(long macs) {
            return macs / (medianMs / 1000.0) / 1e9;
        }
    }

    /**
     * One method.
     *
     * @param label the method's label, e.g. {@code "CRCD"}
     * @param method the distiller name, e.g. {@code "crcd"}
     * @param crcd crcd's step times
     * @param torch the PyTorch peer's step times
     * @param macs multiply-adds per step, -1 when unknown
     */
    public record Row(String label, String method, Timing crcd, Timing torch, long macs) {

        /**
         * Returns crcd's median over the peer's.
         *
         * @return the ratio crcd / PyTorch
         */
        public double crcdOverTorch() {
            return crcd.medianMs() / torch.medianMs();
        }
    }

    /**
     * Returns a row by label.
     *
     * @param label the label
     * @return the row, or {@code null}
     */
    public Row get(String label) {
        return rows.stream().filter(r -> r.label().equals(label)).findFirst().orElse(null);
    }

    /**
     * Returns the table as CSV: one row per method, times in ms, rates in G multiply-adds/s, empty
     * fields where a value is unknown (no KD row, no multiply-add count).
     *
     * @return the CSV
     */
    public Csv toCsv() {
        Csv csv =
                new Csv(
                        List.of(
                                "label",
                                "method",
                                "macs_per_step",
                                "crcd_median_ms",
                                "crcd_p25_ms",
                                "crcd_p75_ms",
                                "crcd_steps",
                                "torch_median_ms",
                                "torch_p25_ms",
                                "torch_p75_ms",
                                "torch_steps",
                                "crcd_over_torch",
                                "crcd_ratio_to_kd",
                                "torch_ratio_to_kd",
                                "crcd_gmac_per_s",
                                "torch_gmac_per_s"));
        Row kd = get(KD);
        for (Row r : rows) {
            List<Object> v = new ArrayList<>();
            v.add(r.label());
            v.add(r.method());
            v.add(r.macs() < 0 ? null : r.macs());
            addTiming(v, r.crcd());
            addTiming(v, r.torch());
            v.add(r.crcdOverTorch());
            v.add(kd == null ? null : r.crcd().medianMs() / kd.crcd().medianMs());
            v.add(kd == null ? null : r.torch().medianMs() / kd.torch().medianMs());
            v.add(r.macs() < 0 ? null : r.crcd().gmacPerSecond(r.macs()));
            v.add(r.macs() < 0 ? null : r.torch().gmacPerSecond(r.macs()));
            csv.add(v);
        }
        return csv;
    }

    private static void addTiming(List<Object> v, Timing t) {
        v.add(t.medianMs());
        v.add(t.p25Ms());
        v.add(t.p75Ms());
        v.add(t.steps());
    }

    /**
     * Returns the Markdown: the setup lines, the table, and the lines on the targets of issue 15
     * (crcd / PyTorch &lt;= 1 for every method; CRCD &lt;= FRCD + GRCD - KD; CRCD / KD &lt;= 2).
     *
     * @return Markdown text
     */
    public String markdown() {
        StringBuilder sb = new StringBuilder(setup.strip()).append("\n\n");
        sb.append(
                "| method | G MAC/step | crcd ms (p25–p75) | PyTorch ms (p25–p75) | crcd / PyTorch "
                        + "| crcd ÷ KD | PyTorch ÷ KD | crcd G MAC/s | PyTorch G MAC/s |\n"
                        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Row kd = get(KD);
        for (Row r : rows) {
            boolean m = r.macs() >= 0;
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %s | %s | %.2f | %s | %s | %s | %s |\n",
                            r.label(),
                            m ? String.format(Locale.ROOT, "%.2f", r.macs() / 1e9) : "–",
                            cell(r.crcd()),
                            cell(r.torch()),
                            r.crcdOverTorch(),
                            kd == null ? "–" : f2(r.crcd().medianMs() / kd.crcd().medianMs()),
                            kd == null ? "–" : f2(r.torch().medianMs() / kd.torch().medianMs()),
                            m ? f1(r.crcd().gmacPerSecond(r.macs())) : "–",
                            m ? f1(r.torch().gmacPerSecond(r.macs())) : "–"));
        }
        sb.append('\n');
        List<String> slower =
                rows.stream().filter(r -> r.crcdOverTorch() > 1.0).map(Row::label).toList();
        sb.append(
                String.format(
                        Locale.ROOT,
                        "- crcd / PyTorch ≤ 1.0 for every method: %s.\n",
                        slower.isEmpty()
                                ? "**met**"
                                : "**not met** (" + String.join(", ", slower) + ")"));
        Row crcd = get("CRCD");
        Row frcd = get("FRCD");
        Row grcd = get("GRCD");
        if (kd != null && crcd != null && frcd != null && grcd != null) {
            double bound = frcd.crcd().medianMs() + grcd.crcd().medianMs() - kd.crcd().medianMs();
            double torchBound =
                    frcd.torch().medianMs() + grcd.torch().medianMs() - kd.torch().medianMs();
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "- CRCD ≤ FRCD + GRCD − KD: crcd %.1f vs %.1f ms (%s); PyTorch %.1f vs "
                                    + "%.1f ms.\n",
                            crcd.crcd().medianMs(),
                            bound,
                            crcd.crcd().medianMs() <= bound ? "**met**" : "**not met**",
                            crcd.torch().medianMs(),
                            torchBound));
            double r = crcd.crcd().medianMs() / kd.crcd().medianMs();
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "- CRCD / KD ≤ 2.0: crcd %.2f (%s), PyTorch %.2f%s.\n",
                            r,
                            r <= 2.0 ? "**met**" : "**not met**",
                            crcd.torch().medianMs() / kd.torch().medianMs(),
                            crcd.macs() > 0 && kd.macs() > 0
                                    ? String.format(
                                            Locale.ROOT,
                                            "; arithmetic bound (multiply-adds) %.2f",
                                            (double) crcd.macs() / kd.macs())
                                    : ""));
        }
        return sb.toString();
    }

    private static String cell(Timing t) {
        return String.format(Locale.ROOT, "%.1f (%.1f–%.1f)", t.medianMs(), t.p25Ms(), t.p75Ms());
    }

    private static String f1(double x) {
        return String.format(Locale.ROOT, "%.1f", x);
    }

    private static String f2(double x) {
        return String.format(Locale.ROOT, "%.2f", x);
    }

    /**
     * Writes {@code PREFIX.csv} and {@code PREFIX.md} into a folder (each atomically).
     *
     * @param dir the folder
     * @param prefix the file name prefix, e.g. {@code peer-cpu-b64}
     * @throws IOException on a write error
     */
    public void write(Path dir, String prefix) throws IOException {
        toCsv().write(dir.resolve(prefix + ".csv"));
        AtomicFiles.write(dir.resolve(prefix + ".md"), markdown());
    }
}
