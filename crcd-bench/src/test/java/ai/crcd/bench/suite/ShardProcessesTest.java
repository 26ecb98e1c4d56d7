package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.SuiteMain;
import ai.crcd.bench.io.Csv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster simulation of issue 18: the tiny suite {@code configs/bench/tiny-cluster.yaml}
 * (resnet8 teacher and students on synthetic 8x8 images, vanilla and KD x 2 seeds, 3 epochs) run by
 * four {@code suite --shard K/4} JVMs started at once (teachers phase, then students phase) into
 * one folder, one shard killed with SIGKILL after its run's first epoch and restarted; the merged
 * {@code --report} equals the report of the same suite run unsharded in another JVM, all columns
 * but the wall times.
 */
class ShardProcessesTest {

    /** The suite, shared with scripts/cluster/slurm-local-test.sh. */
    static final Path SUITE = Path.of("..", "configs", "bench", "tiny-cluster.yaml");

    @TempDir Path tmp;

    private Process start(String name, String... args) throws IOException {
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx384m",
                                "-XX:+UseSerialGC",
                                "-XX:TieredStopAtLevel=1",
                                "-Dai.djl.pytorch.num_threads=1",
                                "-Dai.djl.pytorch.num_interop_threads=1"));
        for (String p :
                List.of(
                        "ai.djl.offline",
                        "DJL_CACHE_DIR",
                        "ENGINE_CACHE_DIR",
                        "ai.djl.default_engine",
                        "java.awt.headless")) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.addAll(
                List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        SuiteMain.class.getName(),
                        "suite"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return pb.start();
    }

    private void await(String name, Process p) throws Exception {
        assertTrue(p.waitFor(150, TimeUnit.SECONDS), name + " did not finish; see " + log(name));
        assertEquals(0, p.exitValue(), name + " failed:\n" + log(name));
    }

    private String log(String name) throws IOException {
        Path f = tmp.resolve(name + ".log");
        return Files.exists(f) ? Files.readString(f) : "(no log)";
    }

    private String[] shard(Path suite, Path out, int k, String phase) {
        return new String[] {
            "--suite",
            suite.toString(),
            "--out",
            out.toString(),
            "--shard",
            k + "/4",
            "--phase",
            phase,
            "--claim-timeout",
            "60"
        };
    }

    @Test
    void fourShardsOneKilledAndRestartedReportLikeTheUnshardedSuite() throws Exception {
        Path suite = SUITE.toAbsolutePath().normalize();
        Path whole = tmp.resolve("whole");
        Path out = tmp.resolve("sharded");
        Process reference = start("whole", "--suite", suite.toString(), "--out", whole.toString());

        List<Process> teachers = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            teachers.add(start("teachers" + k, shard(suite, out, k, "teachers")));
        }
        for (int k = 0; k < 4; k++) {
            await("teachers" + k, teachers.get(k));
        }
        assertTrue(Files.isRegularFile(out.resolve("teachers/resnet8-seed3/record.json")));

        // students: positions 0..3 = seed 1 vanilla, seed 1 KD, seed 2 vanilla, seed 2 KD -> shards
        // 0..3
        List<Process> students = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            students.add(start("students" + k, shard(suite, out, k, "students")));
        }
        Path victim = out.resolve("runs/resnet8_resnet8/KD/seed1");
        Process killed = students.get(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(victim.resolve("checkpoint.ckpt"))
                && killed.isAlive()
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(
                killed.isAlive(),
                "shard 1 ended before its first epoch was saved:\n" + log("students1"));
        killed.destroyForcibly().waitFor();
        assertFalse(
                Files.exists(victim.resolve(SuiteLayout.RECORD)),
                "shard 1 finished its run before the kill; the test needs a longer run");
        Path claim1 =
                out.resolve(RunClaims.DIR).resolve("runs/resnet8_resnet8/KD/seed1/claim-1.json");
        assertTrue(
                Files.readString(claim1).contains("\"pid\" : " + killed.pid()),
                Files.readString(claim1));

        Process restarted = start("students1-again", shard(suite, out, 1, "students"));
        await("students1-again", restarted);
        for (int k : new int[] {0, 2, 3}) {
            await("students" + k, students.get(k));
        }
        await("whole", reference);

        // the dead shard's claim was retaken (by the restarted shard, or by a shard that finished
        // first) and the run continued from its epoch checkpoint
        assertTrue(Files.isRegularFile(claim1.resolveSibling("claim-2.json")));
        String logs =
                log("students0") + log("students1-again") + log("students2") + log("students3");
        assertTrue(logs.contains("KD seed 1 -> " + victim + " (resuming)"), logs);
        assertEquals(3, RunRecord.read(victim.resolve(SuiteLayout.RECORD)).history().size());

        List<String> said = new ArrayList<>();
        SuiteRunner.Outcome merged =
                SuiteRunner.builder()
                        .setSuite(SuiteSpec.load(suite), suite.getParent())
                        .setOut(out)
                        .setExecutor(
                                r -> {
                                    throw new AssertionError("--report must not train");
                                })
                        .optLog(said::add)
                        .build()
                        .report();
        assertTrue(merged.complete(), said.toString());
        assertEquals("report tiny-cluster: 5 of 5 runs finished, 0 missing", said.get(0));

        assertEquals(
                withoutTimes(Csv.read(whole.resolve("results.csv")), whole),
                withoutTimes(Csv.read(out.resolve("results.csv")), out));
        assertEquals(
                withoutTimes(Csv.read(whole.resolve("per_epoch.csv")), whole),
                withoutTimes(Csv.read(out.resolve("per_epoch.csv")), out));
        assertEquals(
                Csv.read(whole.resolve("per_epoch.csv")).header(),
                Csv.read(out.resolve("per_epoch.csv")).header());
        assertEquals(5, Csv.read(out.resolve("results.csv")).rows().size());
        assertEquals(tableWithoutTimes(whole), tableWithoutTimes(out));
        assertTrue(Files.isRegularFile(out.resolve("accuracy.png")));
    }

    /** The CSV's rows as maps without the wall-time column, the folder replaced by OUT. */
    private static List<Map<String, String>> withoutTimes(Csv csv, Path dir) {
        List<Map<String, String>> rows = new ArrayList<>();
        for (Map<String, String> r : csv.records()) {
            Map<String, String> m = new LinkedHashMap<>(r);
            m.remove("seconds");
            m.replaceAll((k, v) -> v.replace(dir.toAbsolutePath().toString(), "OUT"));
            rows.add(m);
        }
        return rows;
    }

    /** table.md without its last column (seconds per run). */
    private static String tableWithoutTimes(Path dir) throws IOException {
        return Files.readAllLines(dir.resolve("table.md")).stream()
                .map(
                        l ->
                                l.startsWith("|")
                                        ? l.substring(0, l.lastIndexOf('|', l.length() - 2) + 1)
                                        : l)
                .collect(Collectors.joining("\n"));
    }
}
