package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.io.Csv;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite's bookkeeping (plan, resume, CSV, table, plots) with an executor that trains nothing.
 */
class SuiteRunnerTest {

    static final String SUITE =
            """
            name: tiny
            base: {data: {name: synthetic}, optim: {epochs: 2}}
            overrides: [optim.epochs=2]
            teacher: {model: resnet14, seed: 7}
            student: resnet8
            seeds: [1, 2]
            methods:
              - {label: vanilla, method: vanilla}
              - {label: KD, method: kd, ce_weight: 0.1, options: {alpha: 0.9, temperature: 4}}
            """;

    static final Map<String, Double> BASE = Map.of("teacher", 90.0, "vanilla", 80.0, "KD", 82.0);

    @TempDir Path tmp;

    private SuiteRunner.Builder runner(FakeExecutor ex, boolean resume) {
        return SuiteRunner.builder()
                .setSuite(SuiteSpec.parse(SUITE, "tiny.yaml"), null)
                .setOut(tmp)
                .setExecutor(ex)
                .optResume(resume)
                .optLog(s -> {});
    }

    @Test
    void stoppedSuiteResumesOnlyMissingRuns() throws Exception {
        FakeExecutor first = new FakeExecutor(BASE);
        SuiteRunner.Outcome o1 = runner(first, false).optMaxRuns(3).build().run();
        assertEquals(3, o1.executed());
        assertFalse(o1.complete());
        assertEquals(5, o1.total());
        // teacher first, then seed 1 for both methods
        assertEquals(
                List.of("teacher/7", "vanilla/1", "KD/1"),
                first.requests.stream().map(r -> r.label() + "/" + r.seed()).toList());
        assertTrue(
                Files.readString(tmp.resolve("table.md")).contains("partial: 2 of 4 student runs"));

        // student config carries the method, its options, the teacher checkpoint and the seed
        RunRequest kd = first.requests.get(2);
        assertTrue(
                kd.configYaml().contains("method: \"kd\"")
                        || kd.configYaml().contains("method: kd"),
                kd.configYaml());
        assertTrue(kd.configYaml().contains("ce_weight: 0.1"), kd.configYaml());
        assertTrue(kd.configYaml().contains("temperature: 4"), kd.configYaml());
        assertTrue(
                kd.configYaml()
                        .contains(tmp.resolve("teachers/resnet14-seed7/model.params").toString()));
        assertEquals(List.of("optim.epochs=2"), kd.overrides());
        assertTrue(
                first.requests.get(0).configYaml().contains("kind: \"train\"")
                        || first.requests.get(0).configYaml().contains("kind: train"));

        // without --resume an existing suite folder is refused
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> runner(new FakeExecutor(BASE), false).build().run());
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());

        // a run killed half-way leaves a folder without record.json: it is resumed, not restarted
        Path killed = tmp.resolve("runs/resnet14_resnet8/vanilla/seed2");
        Files.createDirectories(killed);
        Files.writeString(killed.resolve("checkpoint-epoch1"), "x");

        FakeExecutor second = new FakeExecutor(BASE);
        SuiteRunner.Outcome o2 = runner(second, true).build().run();
        assertTrue(o2.complete());
        assertEquals(2, o2.executed());
        assertEquals(3, o2.skipped());
        assertEquals(
                List.of("vanilla/2", "KD/2"),
                second.requests.stream().map(r -> r.label() + "/" + r.seed()).toList());
        assertTrue(second.requests.get(0).resume(), "interrupted run must be resumed");
        assertFalse(second.requests.get(1).resume());

        // delete one done marker: only that run executes again
        Files.delete(tmp.resolve("runs/resnet14_resnet8/KD/seed1/record.json"));
        FakeExecutor third = new FakeExecutor(BASE);
        SuiteRunner.Outcome o3 = runner(third, true).build().run();
        assertEquals(1, o3.executed());
        assertEquals(
                List.of("KD/1"),
                third.requests.stream().map(r -> r.label() + "/" + r.seed()).toList());

        // a failing run leaves the finished ones recorded
        Files.delete(tmp.resolve("runs/resnet14_resnet8/KD/seed2/record.json"));
        FakeExecutor failing = new FakeExecutor(BASE);
        failing.failAfter = 0;
        assertThrows(IllegalStateException.class, () -> runner(failing, true).build().run());
        assertEquals(4, Csv.read(tmp.resolve("results.csv")).rows().size());
    }

    @Test
    void completeSuiteWritesCsvTableAndPlots() throws Exception {
        FakeExecutor ex = new FakeExecutor(BASE);
        SuiteRunner.Outcome o = runner(ex, false).build().run();
        assertEquals(5, o.executed());

        Csv results = Csv.read(tmp.resolve("results.csv"));
        assertEquals(SuiteCsv.RESULTS_HEADER, results.header());
        assertEquals(5, results.rows().size());
        List<Map<String, String>> recs = results.records();
        assertEquals("teacher", recs.get(0).get("role"));
        for (Map<String, String> r : recs.subList(1, 5)) {
            double expected =
                    FakeExecutor.top1(BASE, r.get("label"), Long.parseLong(r.get("seed")));
            assertEquals(expected, Double.parseDouble(r.get("last_top1")), 1e-12);
            assertEquals("2", r.get("epochs"));
        }

        Csv perEpoch = Csv.read(tmp.resolve("per_epoch.csv"));
        assertEquals(
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
                        "seconds",
                        "loss_ce",
                        "loss_kd"),
                perEpoch.header());
        assertEquals(10, perEpoch.rows().size());

        String table = Files.readString(tmp.resolve("table.md"));
        assertTrue(table.contains("complete: all 5 runs finished"), table);
        // vanilla: 80.5, 81.0 -> mean 80.75, std sqrt(0.125); KD: 82.5, 83.0 -> mean 82.75
        assertTrue(table.contains("| vanilla | vanilla | 2 | 80.75 ± 0.35 |"), table);
        assertTrue(table.contains("| KD | kd | 2 | 82.75 ± 0.35 |"), table);
        assertTrue(table.contains("| teacher (resnet14) | train | 1 | 93.50 |"), table);
        assertTrue(table.contains("+2.00"), table);
        assertTrue(
                table.contains("beats the vanilla student on mean last-epoch top-1: **yes**"),
                table);
        assertTrue(table.contains("CRCD > CRD > KD: not checked yet"), table);

        for (String png : List.of("accuracy.png", "curves.png")) {
            BufferedImage img = ImageIO.read(tmp.resolve(png).toFile());
            assertNotNull(img, png);
            assertEquals(900, img.getWidth());
            assertEquals(520, img.getHeight());
        }
    }
}
