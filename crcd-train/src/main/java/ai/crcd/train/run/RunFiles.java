package ai.crcd.train.run;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The human-readable outputs of a run folder: {@code metrics.csv}, {@code metrics.jsonl}, {@code
 * curves.png} and {@code summary.md}. Each is rewritten whole (atomically) from the history, so a
 * resumed run's files are the same as an uninterrupted run's.
 */
public final class RunFiles {

    /** Metrics, one CSV row per epoch. */
    public static final String CSV = "metrics.csv";

    /** Metrics, one JSON object per line per epoch. */
    public static final String JSONL = "metrics.jsonl";

    /** Metrics of the method's init stage, one CSV row per init epoch. */
    public static final String INIT_CSV = "init_metrics.csv";

    /** Metrics of the method's init stage, one JSON object per line per init epoch. */
    public static final String INIT_JSONL = "init_metrics.jsonl";

    /** Accuracy and loss curves. */
    public static final String PNG = "curves.png";

    /** Markdown summary. */
    public static final String SUMMARY = "summary.md";

    private static final ObjectMapper JSON = new ObjectMapper();

    private RunFiles() {}

    /**
     * Writes {@code metrics.csv} and {@code metrics.jsonl}.
     *
     * @param dir the run folder
     * @param history the epochs so far
     * @throws IOException if writing fails
     */
    public static void writeMetrics(Path dir, List<EpochMetrics> history) throws IOException {
        Set<String> terms = termNames(history);
        List<String> columns = new ArrayList<>(List.of("epoch", "lr", "train_loss"));
        terms.forEach(t -> columns.add("train_" + t));
        columns.addAll(
                List.of("train_top1", "test_loss", "test_top1", "test_top5", "seconds", "device"));
        List<Map<String, Object>> rows = new ArrayList<>();
        history.forEach(m -> rows.add(m.toRow()));
        write(dir.resolve(CSV), dir.resolve(JSONL), columns, rows);
    }

    /**
     * Writes {@code init_metrics.csv} and {@code init_metrics.jsonl}: one row per epoch of the
     * method's init stage, {@code stage, epoch, lr, train_loss, train_<term>..., train_top1,
     * seconds, device} with {@code stage = init} (no test columns: the init stage is not
     * evaluated).
     *
     * @param dir the run folder
     * @param initHistory the init epochs so far
     * @throws IOException if writing fails
     */
    public static void writeInitMetrics(Path dir, List<EpochMetrics> initHistory)
            throws IOException {
        List<String> columns = new ArrayList<>(List.of("stage", "epoch", "lr", "train_loss"));
        termNames(initHistory).forEach(t -> columns.add("train_" + t));
        columns.addAll(List.of("train_top1", "seconds", "device"));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (EpochMetrics m : initHistory) {
            Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("stage", "init");
            row.putAll(m.toRow());
            row.keySet().removeIf(k -> k.startsWith("test_"));
            rows.add(row);
        }
        write(dir.resolve(INIT_CSV), dir.resolve(INIT_JSONL), columns, rows);
    }

    private static void write(
            Path csvFile, Path jsonlFile, List<String> columns, List<Map<String, Object>> rows)
            throws IOException {
        StringBuilder csv = new StringBuilder(String.join(",", columns)).append('\n');
        StringBuilder jsonl = new StringBuilder();
        for (Map<String, Object> row : rows) {
            List<String> cells = new ArrayList<>();
            for (String c : columns) {
                cells.add(cell(c, row.get(c)));
            }
            csv.append(String.join(",", cells)).append('\n');
            jsonl.append(JSON.writeValueAsString(row)).append('\n');
        }
        AtomicFiles.write(csvFile, csv.toString());
        AtomicFiles.write(jsonlFile, jsonl.toString());
    }

    private static String cell(String column, Object v) {
        if (v == null) {
            return "";
        }
        if ("seconds".equals(column)) {
            return String.format(Locale.ROOT, "%.2f", (Double) v);
        }
        return v instanceof Double d ? num(d) : v.toString();
    }

    private static Set<String> termNames(List<EpochMetrics> history) {
        Set<String> names = new LinkedHashSet<>();
        for (EpochMetrics m : history) {
            names.addAll(m.trainTerms().keySet());
        }
        return names;
    }

    private static String num(double v) {
        return Double.toString(v);
    }

    /**
     * Writes {@code curves.png}: test accuracy (top-1, top-5) and training loss terms per epoch.
     *
     * @param dir the run folder
     * @param title the chart title
     * @param history the epochs so far
     * @throws IOException if writing fails
     */
    public static void writeCurves(Path dir, String title, List<EpochMetrics> history)
            throws IOException {
        if (history.isEmpty()) {
            return;
        }
        List<Integer> x = new ArrayList<>();
        List<Double> top1 = new ArrayList<>();
        List<Double> top5 = new ArrayList<>();
        for (EpochMetrics m : history) {
            x.add(m.epoch());
            top1.add(m.testTop1());
            top5.add(m.testTop5());
        }
        XYChart acc =
                new XYChartBuilder()
                        .width(640)
                        .height(400)
                        .title(title + ": test accuracy")
                        .xAxisTitle("epoch")
                        .yAxisTitle("%")
                        .build();
        acc.addSeries("top-1", x, top1);
        acc.addSeries("top-5", x, top5);
        XYChart loss =
                new XYChartBuilder()
                        .width(640)
                        .height(400)
                        .title(title + ": training loss")
                        .xAxisTitle("epoch")
                        .yAxisTitle("loss")
                        .build();
        List<Double> total = new ArrayList<>();
        history.forEach(m -> total.add(finite(m.trainLoss())));
        loss.addSeries("total", x, total);
        for (String t : termNames(history)) {
            List<Double> ys = new ArrayList<>();
            for (EpochMetrics m : history) {
                ys.add(finite(m.trainTerms().getOrDefault(t, 0.0)));
            }
            loss.addSeries(t, x, ys);
        }
        java.awt.image.BufferedImage a = BitmapEncoder.getBufferedImage(acc);
        java.awt.image.BufferedImage l = BitmapEncoder.getBufferedImage(loss);
        java.awt.image.BufferedImage both =
                new java.awt.image.BufferedImage(
                        a.getWidth() + l.getWidth(),
                        Math.max(a.getHeight(), l.getHeight()),
                        java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = both.createGraphics();
        g.drawImage(a, 0, 0, null);
        g.drawImage(l, a.getWidth(), 0, null);
        g.dispose();
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(both, "png", png);
        AtomicFiles.write(dir.resolve(PNG), png.toByteArray());
    }

    private static double finite(double v) {
        return Double.isFinite(v) ? v : 0.0;
    }

    /**
     * Writes {@code summary.md}.
     *
     * @param dir the run folder
     * @param title what ran, e.g. {@code distill crcd: resnet56 -> resnet20 on cifar100}
     * @param result the result so far
     * @param extra additional lines (name, value), e.g. the teacher's accuracy
     * @throws IOException if writing fails
     */
    public static void writeSummary(
            Path dir, String title, RunResult result, Map<String, String> extra)
            throws IOException {
        List<EpochMetrics> h = result.history();
        StringBuilder md = new StringBuilder();
        md.append("# ").append(title).append("\n\n");
        md.append("| | value |\n|---|---|\n");
        md.append(row("epochs", Integer.toString(h.size())));
        md.append(row("last top-1 (%)", pct(result.lastTop1())));
        md.append(row("last top-5 (%)", pct(result.lastTop5())));
        md.append(
                row(
                        "best top-1 (%)",
                        pct(result.bestTop1()) + " (epoch " + result.bestEpoch() + ")"));
        if (!h.isEmpty()) {
            md.append(
                    row(
                            "final train loss",
                            String.format(Locale.ROOT, "%.4f", h.get(h.size() - 1).trainLoss())));
            double secs = h.stream().mapToDouble(EpochMetrics::seconds).sum();
            md.append(row("wall time (s)", String.format(Locale.ROOT, "%.1f", secs)));
        }
        extra.forEach((k, v) -> md.append(row(k, v)));
        md.append("\nFiles: `config.yaml` (resolved config), `metrics.csv`, `metrics.jsonl`, ")
                .append("`curves.png`, `model.params` (trained network), `checkpoint.ckpt`, ")
                .append("`model/` and `best/` (last and best epoch as DJL model folders).\n");
        AtomicFiles.write(dir.resolve(SUMMARY), md.toString());
    }

    private static String row(String k, String v) {
        return "| " + k + " | " + v + " |\n";
    }

    /**
     * Formats a percentage with two decimals.
     *
     * @param v the value
     * @return the text
     */
    public static String pct(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
