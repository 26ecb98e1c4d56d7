package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.io.Csv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table's statistics against values computed here from the same CSV numbers. */
class SuiteReportTest {

    static final String SUITE =
            """
            name: stats
            base: {kind: distill}
            teacher: {model: resnet56}
            student: resnet20
            seeds: [1, 2, 3]
            methods:
              - {label: vanilla, method: vanilla}
              - {label: KD, method: kd}
              - {label: CRD+KD, method: crd_kd}
              - {label: CRCD, method: crcd}
            """;

    // last / best top-1 per method and seed
    static final double[][] LAST = {
        {69.1, 68.7, 69.6}, {70.9, 71.3, 70.2}, {71.5, 71.9, 71.1}, {73.0, 72.6, 73.8}
    };
    static final double[][] BEST = {
        {69.5, 69.0, 70.0}, {71.2, 71.4, 70.9}, {71.8, 72.3, 71.6}, {73.3, 73.0, 74.1}
    };
    static final String[] LABELS = {"vanilla", "KD", "CRD+KD", "CRCD"};
    static final String[] METHODS = {"vanilla", "kd", "crd_kd", "crcd"};

    @TempDir Path tmp;

    static double mean(double[] x) {
        return (x[0] + x[1] + x[2]) / 3.0;
    }

    static double std(double[] x) {
        double m = mean(x);
        double ss = (x[0] - m) * (x[0] - m) + (x[1] - m) * (x[1] - m) + (x[2] - m) * (x[2] - m);
        return Math.sqrt(ss / 2.0);
    }

    private Csv csv() throws Exception {
        List<RunRecord> recs = new ArrayList<>();
        recs.add(
                new RunRecord(
                        "resnet56_resnet20",
                        "teacher",
                        "teacher",
                        "train",
                        "resnet56",
                        0,
                        73.25,
                        73.5,
                        93.0,
                        230,
                        100,
                        "t.params",
                        List.of()));
        for (int m = 0; m < 4; m++) {
            for (int s = 0; s < 3; s++) {
                recs.add(
                        new RunRecord(
                                "resnet56_resnet20",
                                "student",
                                LABELS[m],
                                METHODS[m],
                                "resnet20",
                                s + 1,
                                LAST[m][s],
                                BEST[m][s],
                                90,
                                200 + s,
                                10 * (s + 1),
                                null,
                                List.of()));
            }
        }
        Path f = tmp.resolve("results.csv");
        SuiteCsv.results(recs).write(f);
        return Csv.read(f); // the table is computed from the file, as the suite does
    }

    @Test
    void meanAndSampleStdFromCsv() throws Exception {
        List<SuiteReport.Row> rows = SuiteReport.summarize(csv());
        assertEquals(5, rows.size());
        assertEquals("teacher", rows.get(0).role());
        assertEquals(73.25, rows.get(0).lastMean(), 1e-12);
        assertTrue(Double.isNaN(rows.get(0).lastStd()));
        for (int m = 0; m < 4; m++) {
            SuiteReport.Row r = rows.get(m + 1);
            assertEquals(LABELS[m], r.label());
            assertEquals(3, r.runs());
            assertEquals(mean(LAST[m]), r.lastMean(), 1e-9);
            assertEquals(std(LAST[m]), r.lastStd(), 1e-9);
            assertEquals(mean(BEST[m]), r.bestMean(), 1e-9);
            assertEquals(std(BEST[m]), r.bestStd(), 1e-9);
            assertEquals(201.0, r.bestEpochMean(), 1e-12);
            assertEquals(20.0, r.secondsMean(), 1e-12);
        }
    }

    @Test
    void markdownShowsRowsGainsAndOrdering() throws Exception {
        SuiteSpec spec = SuiteSpec.parse(SUITE, "stats.yaml");
        String md = SuiteReport.markdown(spec, SuiteReport.summarize(csv()), "complete");
        String kdRow =
                String.format(
                        Locale.ROOT,
                        "| KD | kd | 3 | %.2f ± %.2f | %.2f ± %.2f | 201.0 | %+.2f | %+.2f | 20 |",
                        mean(LAST[1]),
                        std(LAST[1]),
                        mean(BEST[1]),
                        std(BEST[1]),
                        mean(LAST[1]) - mean(LAST[0]),
                        mean(BEST[1]) - mean(BEST[0]));
        assertTrue(md.contains(kdRow), md + "\nexpected: " + kdRow);
        assertTrue(
                md.contains(
                        "| teacher (resnet56) | train | 1 | 73.25 | 73.50 | 230.0 |  |  | 100 |"),
                md);
        assertTrue(md.contains("**yes**"), md);
        assertTrue(md.contains("CRCD > CRD+KD > KD on mean last-epoch top-1: **holds**"), md);
        double d = mean(LAST[3]) - mean(LAST[2]);
        double spread = Math.sqrt((std(LAST[3]) * std(LAST[3]) + std(LAST[2]) * std(LAST[2])) / 2);
        assertTrue(
                md.contains(
                        String.format(
                                Locale.ROOT,
                                "CRCD − CRD+KD = %+.2f points = %.1f× the seed spread",
                                d,
                                d / spread)),
                md);
    }

    @Test
    void orderingReportedPlainlyWhenItFails() throws Exception {
        SuiteSpec spec = SuiteSpec.parse(SUITE, "stats.yaml");
        List<SuiteReport.Row> rows = new ArrayList<>(SuiteReport.summarize(csv()));
        SuiteReport.Row crcd = rows.get(4);
        rows.set(
                4,
                new SuiteReport.Row(
                        crcd.pair(),
                        crcd.role(),
                        crcd.label(),
                        crcd.method(),
                        crcd.model(),
                        3,
                        60.0,
                        1.0,
                        61.0,
                        1.0,
                        1,
                        1));
        String md = SuiteReport.markdown(spec, rows, "complete");
        assertTrue(md.contains("**does not hold**"), md);
        assertTrue(md.contains("**no** ("), md);
    }
}
