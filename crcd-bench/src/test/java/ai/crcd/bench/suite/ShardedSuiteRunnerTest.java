package ai.crcd.bench.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.run.RunLock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sharding's bookkeeping with an executor that trains nothing: the plan's order and split, the
 * phases, claims (exclusive, stale by timeout or dead owner, lost), and the merged report equal to
 * the unsharded suite's.
 */
class ShardedSuiteRunnerTest {

    static final String SUITE =
            """
            name: two-pairs
            base: {data: {name: synthetic}}
            pairs:
              - {teacher: {model: resnet14, seed: 7}, student: resnet8}
              - {teacher: {model: resnet14, seed: 7}, student: resnet14, name: wide}
              - {teacher: {model: resnet20, seed: 1}, student: resnet8}
            seeds: [1, 2]
            methods:
              - {label: vanilla, method: vanilla}
              - {label: KD, method: kd, ce_weight: 0.1, options: {alpha: 0.9, temperature: 4}}
            """;

    @TempDir Path tmp;

    private final SuiteSpec spec = SuiteSpec.parse(SUITE, "two-pairs.yaml");

    private SuiteRunner.Builder runner(Path out, RunExecutor ex) {
        return SuiteRunner.builder()
                .setSuite(spec, null)
                .setOut(out)
                .setExecutor(ex)
                .optPlots(false)
                .optLog(s -> {})
                .optClaimTimeout(Duration.ofSeconds(30), Duration.ofMillis(20));
    }

    private static FakeExecutor fake() {
        return new FakeExecutor(java.util.Map.of("teacher", 90.0, "vanilla", 80.0, "KD", 82.0));
    }

    @Test
    void planOrdersTeachersThenStudentsAndShardsSplitEachPhase() {
        SuitePlan plan = new SuitePlan(spec, new SuiteLayout(tmp));
        List<SuitePlan.Run> runs = plan.runs();
        assertEquals(2 + 2 * 3 * 2, runs.size()); // teacher resnet14-seed7 is shared by two pairs
        assertEquals(
                List.of(
                        "teachers/resnet14-seed7",
                        "teachers/resnet20-seed1",
                        "runs/resnet14_resnet8/vanilla/seed1",
                        "runs/resnet14_resnet8/KD/seed1",
                        "runs/wide/vanilla/seed1"),
                runs.subList(0, 5).stream().map(SuitePlan.Run::id).toList());
        assertEquals("runs/resnet20_resnet8/KD/seed2", runs.get(13).id());
        for (int i = 0; i < runs.size(); i++) {
            assertEquals(i, runs.get(i).index());
        }
        // every run in exactly one shard, teachers spread over shards too
        for (int n = 1; n <= 5; n++) {
            Set<Integer> seen = new HashSet<>();
            for (int k = 0; k < n; k++) {
                for (SuitePlan.Run r : plan.select(SuitePhase.ALL, new Shard(k, n))) {
                    assertTrue(seen.add(r.index()), "run " + r.index() + " in two shards of " + n);
                }
            }
            assertEquals(runs.size(), seen.size());
        }
        assertEquals(
                List.of(0),
                plan.select(SuitePhase.TEACHERS, new Shard(0, 4)).stream()
                        .map(SuitePlan.Run::index)
                        .toList());
        assertEquals(
                List.of(1),
                plan.select(SuitePhase.TEACHERS, new Shard(1, 4)).stream()
                        .map(SuitePlan.Run::index)
                        .toList());
        assertEquals(
                List.of(3, 7, 11),
                plan.select(SuitePhase.STUDENTS, new Shard(1, 4)).stream()
                        .map(SuitePlan.Run::index)
                        .toList());
    }

    @Test
    void badShardAndPhaseAreOneLineErrors() {
        assertEquals(new Shard(2, 4), Shard.parse(" 2/4 "));
        assertEquals(
                "--shard: got 4/4, allowed: K/N with N >= 1 and 0 <= K < N (e.g. 0/4 for the first of"
                        + " four shards)",
                assertThrows(IllegalArgumentException.class, () -> Shard.parse("4/4"))
                        .getMessage());
        assertTrue(
                assertThrows(IllegalArgumentException.class, () -> Shard.parse("two"))
                        .getMessage()
                        .startsWith("--shard: got 'two', allowed: K/N"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("1/0"));
        assertEquals(SuitePhase.TEACHERS, SuitePhase.parse("Teachers"));
        assertEquals(
                "--phase: got 'student', allowed: teachers, students or all",
                assertThrows(IllegalArgumentException.class, () -> SuitePhase.parse("student"))
                        .getMessage());
    }

    @Test
    void shardsInAnyOrderMergeToTheUnshardedReport() throws Exception {
        Path whole = tmp.resolve("whole");
        runner(whole, fake()).build().run();

        Path sharded = tmp.resolve("sharded");
        FakeExecutor ex = fake();
        // students first: shard 2's students (positions 2, 5, 8, 11) need both teachers, so it
        // trains
        // each one under its claim when first needed
        runner(sharded, ex).optShard(new Shard(2, 3)).optPhase(SuitePhase.STUDENTS).build().run();
        assertEquals(
                List.of("teacher/7", "wide/vanilla/1", "teacher/1", "resnet20_resnet8/KD/1"),
                ex.requests.subList(0, 4).stream()
                        .map(
                                r ->
                                        (r.role().equals("teacher") ? "" : r.pair() + "/")
                                                + r.label()
                                                + "/"
                                                + r.seed())
                        .toList());
        assertFalse(
                Files.exists(sharded.resolve("results.csv")), "shards leave the merge to --report");
        SuiteRunner.Outcome partial = runner(sharded, fake()).build().report();
        assertFalse(partial.complete());
        assertEquals(2 + 4, partial.skipped());
        assertTrue(Files.readString(sharded.resolve("table.md")).contains("8 of 14 runs missing"));

        FakeExecutor teachersAgain = fake();
        for (int k = 0; k < 3; k++) {
            runner(sharded, teachersAgain)
                    .optShard(new Shard(k, 3))
                    .optPhase(SuitePhase.TEACHERS)
                    .build()
                    .run();
        }
        assertTrue(teachersAgain.requests.isEmpty(), "finished teachers are not run again");
        for (int k : new int[] {1, 0, 2}) {
            runner(sharded, ex)
                    .optShard(new Shard(k, 3))
                    .optPhase(SuitePhase.STUDENTS)
                    .build()
                    .run();
        }
        assertEquals(14, ex.requests.size(), "each run exactly once");
        SuiteRunner.Outcome merged = runner(sharded, fake()).build().report();
        assertTrue(merged.complete());
        assertEquals(
                Files.readString(whole.resolve("results.csv")).replace(whole.toString(), "OUT"),
                Files.readString(sharded.resolve("results.csv"))
                        .replace(sharded.toString(), "OUT"));
        assertEquals(
                Files.readString(whole.resolve("per_epoch.csv")),
                Files.readString(sharded.resolve("per_epoch.csv")));
        assertEquals(
                Files.readString(whole.resolve("table.md")),
                Files.readString(sharded.resolve("table.md")));

        // another suite file into the same folder is refused, for shards and for the report
        SuiteSpec other =
                SuiteSpec.parse(SUITE.replace("seeds: [1, 2]", "seeds: [1, 3]"), "o.yaml");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                SuiteRunner.builder()
                                        .setSuite(other, null)
                                        .setOut(sharded)
                                        .setExecutor(fake())
                                        .optShard(new Shard(0, 2))
                                        .build()
                                        .run());
        assertTrue(
                e.getMessage().startsWith("suite 'two-pairs' differs from the one started in"),
                e.getMessage());
        assertTrue(
                assertThrows(
                                IllegalArgumentException.class,
                                () -> runner(tmp.resolve("empty"), fake()).build().report())
                        .getMessage()
                        .startsWith("--report: "));
    }

    @Test
    void liveClaimsAreLeftStaleOnesTakenOver() throws Exception {
        Path out = tmp.resolve("s");
        SuiteLayout layout = new SuiteLayout(out);
        SuitePlan plan = new SuitePlan(spec, layout);
        String teacher = plan.runs().get(0).id();
        String student = plan.runs().get(2).id(); // position 0 of the students: shard 0/2's
        // another host holds the student run and is alive (fresh heartbeat)
        Path foreign =
                Files.createDirectories(out.resolve(RunClaims.DIR).resolve(student))
                        .resolve("claim-1.json");
        Files.writeString(
                foreign,
                "{\"host\":\"node-elsewhere\",\"pid\":42,\"pid_start\":1,\"shard\":\"0/2\","
                        + "\"taken\":\"2026-01-01T00:00:00Z\"}");
        FakeExecutor ex = fake();
        List<String> log = new ArrayList<>();
        SuiteRunner.builder()
                .setSuite(spec, null)
                .setOut(out)
                .setExecutor(ex)
                .optPlots(false)
                .optLog(log::add)
                .optClaimTimeout(Duration.ofSeconds(30), Duration.ofMillis(20))
                .optShard(new Shard(0, 2))
                .build()
                .run();
        assertFalse(
                ex.requests.stream().anyMatch(r -> r.runDir().equals(plan.runs().get(2).dir())));
        assertTrue(
                log.stream()
                        .anyMatch(
                                l ->
                                        l.startsWith(
                                                "2:"
                                                        + student
                                                        + " is held by node-elsewhere pid 42")),
                log.toString());

        // its heartbeat stops: after the timeout the next start takes it over as generation 2, and
        // removes the run lock that crcd-train's run left on the other host (it cannot check it);
        // a lock of another process stays
        Files.setLastModifiedTime(foreign, FileTime.from(Instant.now().minusSeconds(31)));
        Path lock = Files.createDirectories(plan.runs().get(2).dir()).resolve(RunLock.FILE);
        Files.writeString(lock, "pid=42\nhost=node-elsewhere\nstarted=x\ntoken=t\n");
        Path otherLock = Files.createDirectories(plan.runs().get(6).dir()).resolve(RunLock.FILE);
        Files.writeString(otherLock, "pid=43\nhost=node-elsewhere\nstarted=x\ntoken=t\n");
        log.clear();
        SuiteRunner.builder()
                .setSuite(spec, null)
                .setOut(out)
                .setExecutor(ex)
                .optPlots(false)
                .optLog(log::add)
                .optClaimTimeout(Duration.ofSeconds(30), Duration.ofMillis(20))
                .optShard(new Shard(0, 2))
                .build()
                .run();
        assertTrue(Files.isRegularFile(plan.runs().get(2).dir().resolve(SuiteLayout.RECORD)));
        assertTrue(Files.isRegularFile(foreign.resolveSibling("claim-2.json")));
        assertTrue(
                log.stream()
                        .anyMatch(
                                l ->
                                        l.startsWith(
                                                "claim: took over "
                                                        + student
                                                        + " from node-elsewhere")),
                log.toString());
        assertFalse(Files.exists(lock), log.toString());
        assertTrue(
                log.stream()
                        .anyMatch(
                                l ->
                                        l.startsWith(
                                                "claim: removed "
                                                        + lock
                                                        + " of node-elsewhere pid 42")),
                log.toString());
        assertTrue(
                Files.exists(otherLock),
                "never claimed by pid 43: its lock is not the suite's to remove");

        // a claim of a dead process on this host is stale at once, whatever the timeout
        RunClaims claims = new RunClaims(out, Duration.ofHours(1), new Shard(1, 2), s -> {});
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        Path deadDir = Files.createDirectories(out.resolve(RunClaims.DIR).resolve("runs/x"));
        Files.writeString(
                deadDir.resolve("claim-1.json"),
                "{\"host\":\""
                        + RunClaims.hostName()
                        + "\",\"pid\":"
                        + p.pid()
                        + ",\"pid_start\":1,\"shard\":\"1/2\",\"taken\":\"t\"}");
        assertFalse(claims.state("runs/x").live());
        try (RunClaims.Claim c = claims.tryClaim("runs/x").orElseThrow()) {
            assertEquals(2, c.generation());
            assertTrue(claims.state("runs/x").live());
            // a second process racing for the same run gets nothing
            RunClaims rival = new RunClaims(out, Duration.ofHours(1), new Shard(0, 2), s -> {});
            assertEquals(Optional.empty(), rival.tryClaim("runs/x"));
        }
        assertFalse(claims.state("runs/x").live(), "a released claim is free at once");
        assertEquals(teacher, "teachers/resnet14-seed7");
    }

    @Test
    void racingClaimersGetEachRunOnceAndALostClaimIsNoticed() throws Exception {
        Path out = tmp.resolve("race");
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> won = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            RunClaims c = new RunClaims(out, Duration.ofMinutes(1), new Shard(t, threads), s -> {});
            won.add(
                    pool.submit(
                            () -> {
                                go.await();
                                int n = 0;
                                for (int run = 0; run < 20; run++) {
                                    if (c.tryClaim("runs/r" + run)
                                            .isPresent()) { // never closed: held until the end
                                        n++;
                                    }
                                }
                                return n;
                            }));
        }
        go.countDown();
        int total = 0;
        for (Future<Integer> f : won) {
            total += f.get();
        }
        pool.shutdown();
        assertEquals(20, total, "each run claimed exactly once");

        RunClaims a = new RunClaims(out, Duration.ofMillis(400), Shard.ALL, s -> {});
        RunClaims.Claim mine = a.tryClaim("runs/lost").orElseThrow();
        Files.writeString(out.resolve(RunClaims.DIR).resolve("runs/lost/claim-2.json"), "{}");
        assertTrue(mine.lost());
        mine.close();
        assertTrue(
                Files.isRegularFile(out.resolve(RunClaims.DIR).resolve("runs/lost/claim-2.json")));

        // a claim created but never written (its writer died at once) holds only until the timeout
        Path empty =
                Files.createDirectories(out.resolve(RunClaims.DIR).resolve("runs/empty"))
                        .resolve("claim-1.json");
        Files.createFile(empty);
        assertTrue(a.state("runs/empty").live());
        Files.setLastModifiedTime(empty, FileTime.from(Instant.now().minusSeconds(1)));
        assertFalse(a.state("runs/empty").live());
        assertEquals(2, a.tryClaim("runs/empty").orElseThrow().generation());
    }

    @Test
    void listPrintsIndicesShardsAndStates() throws Exception {
        Path out = tmp.resolve("l");
        runner(out, fake()).optShard(new Shard(0, 4)).optPhase(SuitePhase.TEACHERS).build().run();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SuiteListing.print(
                spec, out, new Shard(0, 4), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(
                List.of("index", "phase", "position", "shard", "state", "run"),
                List.of(lines.get(0).split("\\s+")));
        assertTrue(
                lines.get(1).matches("0 +teachers +0 +0/4 +finished +teachers/resnet14-seed7"),
                lines.get(1));
        assertTrue(
                lines.get(2)
                        .matches(
                                "2 +students +0 +0/4 +pending +runs/resnet14_resnet8/vanilla/seed1"),
                lines.get(2));
        assertEquals(1 + 1 + 3 + 1, lines.size()); // header, 1 teacher, students 0, 4, 8, summary
        assertEquals("14 runs (2 teachers, 12 students), 1 finished", lines.get(lines.size() - 1));
    }
}
