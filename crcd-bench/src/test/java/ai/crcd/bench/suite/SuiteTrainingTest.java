package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.io.Csv;
import ai.crcd.train.TrainingRun;
import ai.crcd.train.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny suite trained for real by crcd-train (resnet8 teacher and students on synthetic 8x8
 * images, 2 methods x 2 seeds, 2 epochs of 4 steps): a stopped suite and an interrupted run are
 * continued, and the outputs have the expected rows and columns.
 */
class SuiteTrainingTest {

    static final String SUITE =
            """
            name: tiny-synthetic
            base:
              device: cpu
              data:
                name: synthetic
                batch_size: 16
                test_batch_size: 32
                synthetic: {train_size: 64, test_size: 32, classes: 4, channels: 3, size: 8}
              optim: {lr: 0.05, epochs: 2, milestones: [1]}
            teacher: {model: resnet8, seed: 3}
            student: resnet8
            seeds: [1, 2]
            methods:
              - {label: vanilla, method: vanilla}
              - {label: CRD+KD, method: crd_kd, options: {alpha: 1.0, beta: 0.8, nce_k: 16}}
            """;

    @TempDir Path tmp;

    /** Counts the runs and whether each was a resume, then trains for real. */
    static final class Counting implements RunExecutor {
        final List<String> runs = new ArrayList<>();
        final TrainingRunExecutor real = new TrainingRunExecutor();

        @Override
        public RunRecord execute(RunRequest r) {
            runs.add(r.label() + "/" + r.seed() + (r.resume() ? "/resumed" : ""));
            return real.execute(r);
        }
    }

    private SuiteRunner runner(Counting ex, boolean resume, int maxRuns) {
        return SuiteRunner.builder()
                .setSuite(SuiteSpec.parse(SUITE, "tiny.yaml"), null)
                .setOut(tmp)
                .setExecutor(ex)
                .optResume(resume)
                .optMaxRuns(maxRuns)
                .optLog(s -> {})
                .build();
    }

    @Test
    void tinySuiteTrainsStopsAndResumes() throws Exception {
        Counting first = new Counting();
        SuiteRunner.Outcome o1 = runner(first, false, 2).run();
        assertFalse(o1.complete());
        assertEquals(List.of("teacher/3", "vanilla/1"), first.runs);
        assertTrue(Files.isRegularFile(tmp.resolve("teachers/resnet8-seed3/model.params")));

        // a run killed after its first epoch: train CRD+KD seed 1 for one epoch only into its
        // folder
        // (a method with state, so the resume must restore the memory banks too)
        Path killed = tmp.resolve("runs/resnet8_resnet8/CRD+KD/seed1");
        RunRequest probe =
                new RunRequest(
                        "resnet8_resnet8",
                        "student",
                        "CRD+KD",
                        "crd_kd",
                        "resnet8",
                        1,
                        RunConfigs.studentYaml(
                                SuiteSpec.parse(SUITE, "t").baseTree(null),
                                SuiteSpec.parse(SUITE, "t").pairList().get(0),
                                SuiteSpec.parse(SUITE, "t").methods().get(1),
                                tmp.resolve("teachers/resnet8-seed3/model.params").toString(),
                                1),
                        List.of("optim.epochs=1"),
                        killed,
                        false);
        double epoch1 =
                TrainingRun.execute(
                                ConfigLoader.fromString(probe.configYaml(), probe.overrides()),
                                killed,
                                false)
                        .history()
                        .get(0)
                        .testTop1();
        assertFalse(Files.exists(killed.resolve(SuiteLayout.RECORD)));

        Counting second = new Counting();
        SuiteRunner.Outcome o2 = runner(second, true, Integer.MAX_VALUE).run();
        assertTrue(o2.complete());
        assertEquals(List.of("CRD+KD/1/resumed", "vanilla/2", "CRD+KD/2"), second.runs);
        RunRecord crd1 = RunRecord.read(killed.resolve(SuiteLayout.RECORD));
        assertEquals(2, crd1.history().size());
        assertEquals(
                epoch1,
                crd1.history().get(0).top1(),
                1e-9,
                "epoch 1 must come from the interrupted run");

        Csv results = Csv.read(tmp.resolve("results.csv"));
        assertEquals(SuiteCsv.RESULTS_HEADER, results.header());
        assertEquals(
                List.of("teacher", "vanilla", "vanilla", "CRD+KD", "CRD+KD"),
                results.records().stream().map(r -> r.get("label")).toList());
        for (Map<String, String> r : results.records()) {
            double last = Double.parseDouble(r.get("last_top1"));
            assertTrue(last >= 0 && last <= 100, r.toString());
            assertEquals("2", r.get("epochs"));
            assertTrue(Double.parseDouble(r.get("best_top1")) >= last);
        }
        Csv perEpoch = Csv.read(tmp.resolve("per_epoch.csv"));
        assertEquals(10, perEpoch.rows().size());
        assertTrue(
                perEpoch.header().contains("loss_ce") && perEpoch.header().contains("loss_crd"),
                perEpoch.header().toString());

        String table = Files.readString(tmp.resolve("table.md"));
        List<SuiteReport.Row> rows = SuiteReport.summarize(results);
        assertEquals(3, rows.size());
        assertTrue(table.contains("| vanilla | vanilla | 2 | "), table);
        assertTrue(table.contains("| CRD+KD | crd_kd | 2 | "), table);
        assertTrue(table.contains("| teacher (resnet8) | train | 1 | "), table);
        assertEquals(900, ImageIO.read(tmp.resolve("accuracy.png").toFile()).getWidth());
        assertEquals(900, ImageIO.read(tmp.resolve("curves.png").toFile()).getWidth());
    }
}
