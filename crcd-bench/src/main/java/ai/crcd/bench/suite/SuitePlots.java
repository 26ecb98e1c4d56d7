package ai.crcd.bench.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The suite's PNG plots: {@code accuracy.png} (mean top-1 per method with sample-std error bars,
 * last and best epoch) and {@code curves.png} (test top-1 per epoch per method, mean over seeds). A
 * suite with several pairs gets one pair of plots per pair, named {@code accuracy-PAIR.png}.
 */
public final class SuitePlots {

    private SuitePlots() {}

    /**
     * Draws the plots of every pair from the finished runs.
     *
     * @param layout the suite's files
     * @param spec the suite
     * @param records the finished runs
     * @throws IOException on a write error
     */
    public static void write(SuiteLayout layout, SuiteSpec spec, List<RunRecord> records)
            throws IOException {
        List<PairSpec> pairs = spec.pairList();
        for (PairSpec p : pairs) {
            List<RunRecord> pr = records.stream().filter(r -> r.pair().equals(p.name())).toList();
            if (pr.isEmpty()) {
                continue;
            }
            String suffix = pairs.size() == 1 ? null : p.name();
            String title = spec.name() + ": " + p.teacher().model() + " -> " + p.student();
            save(accuracy(title, pr), layout.plot("accuracy", suffix));
            save(curves(title, pr), layout.plot("curves", suffix));
        }
    }

    /**
     * Builds the accuracy chart: one category per row (teacher first), bars of mean last and best
     * top-1 with sample-std error bars.
     *
     * @param title the chart title
     * @param records the runs of one pair
     * @return the chart
     */
    public static CategoryChart accuracy(String title, List<RunRecord> records) {
        Map<String, List<RunRecord>> byLabel = groupByLabel(records);
        List<String> names = new ArrayList<>();
        List<Double> last = new ArrayList<>();
        List<Double> lastErr = new ArrayList<>();
        List<Double> best = new ArrayList<>();
        List<Double> bestErr = new ArrayList<>();
        double min = Double.MAX_VALUE;
        for (Map.Entry<String, List<RunRecord>> e : byLabel.entrySet()) {
            List<Double> l = e.getValue().stream().map(RunRecord::lastTop1).toList();
            List<Double> b = e.getValue().stream().map(RunRecord::bestTop1).toList();
            names.add(e.getKey());
            last.add(Stats.mean(l));
            lastErr.add(zeroIfNaN(Stats.sampleStd(l)));
            best.add(Stats.mean(b));
            bestErr.add(zeroIfNaN(Stats.sampleStd(b)));
            min =
                    Math.min(
                            min,
                            Math.min(
                                    Stats.mean(l) - lastErr.get(lastErr.size() - 1),
                                    Stats.mean(b)));
        }
        CategoryChart c =
                new CategoryChartBuilder()
                        .width(Math.max(900, 60 * names.size()))
                        .height(names.size() > 8 ? 600 : 520)
                        .title(title)
                        .xAxisTitle("method")
                        .yAxisTitle("test top-1 (%), mean ± sample std over seeds")
                        .build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setYAxisMin(Math.max(0, Math.floor(min - 2)));
        c.getStyler().setErrorBarsColor(java.awt.Color.BLACK);
        c.getStyler().setErrorBarsColorSeriesColor(false);
        if (names.size() > 8) { // long method lists: slanted labels instead of overlapping ones
            c.getStyler().setXAxisLabelRotation(45);
        }
        c.addSeries("last epoch", names, last, lastErr);
        c.addSeries("best epoch", names, best, bestErr);
        return c;
    }

    /**
     * Builds the learning-curve chart: mean test top-1 over seeds per epoch, one line per row.
     *
     * @param title the chart title
     * @param records the runs of one pair
     * @return the chart
     */
    public static XYChart curves(String title, List<RunRecord> records) {
        XYChart c =
                new XYChartBuilder()
                        .width(900)
                        .height(520)
                        .title(title)
                        .xAxisTitle("epoch")
                        .yAxisTitle("test top-1 (%), mean over seeds")
                        .build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        for (Map.Entry<String, List<RunRecord>> e : groupByLabel(records).entrySet()) {
            TreeMap<Integer, List<Double>> byEpoch = new TreeMap<>();
            for (RunRecord r : e.getValue()) {
                for (EpochRow row : r.history()) {
                    byEpoch.computeIfAbsent(row.epoch(), k -> new ArrayList<>()).add(row.top1());
                }
            }
            if (byEpoch.isEmpty()) {
                continue;
            }
            double[] x = byEpoch.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
            double[] y = byEpoch.values().stream().mapToDouble(Stats::mean).toArray();
            c.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    private static Map<String, List<RunRecord>> groupByLabel(List<RunRecord> records) {
        Map<String, List<RunRecord>> m = new LinkedHashMap<>();
        for (RunRecord r : records) {
            String name =
                    r.role().equals(RunRecord.ROLE_TEACHER) ? "teacher " + r.model() : r.label();
            m.computeIfAbsent(name, k -> new ArrayList<>()).add(r);
        }
        return m;
    }

    private static double zeroIfNaN(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static void save(Chart<?, ?> chart, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        String name = file.getFileName().toString();
        Path target = file.resolveSibling(name.substring(0, name.length() - ".png".length()));
        BitmapEncoder.saveBitmap(chart, target.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
