package ai.crcd.bench.suite;

import ai.crcd.train.run.AtomicFiles;
import ai.crcd.train.run.RunLock;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs a suite: each distinct teacher once (or reuses its checkpoint), then every seed x pair x
 * method student run with the same budget, and writes the CSVs, the table and the plots.
 *
 * <p>Resumable: a finished run is marked by its {@code record.json}, written atomically as the
 * run's last act. With resume on, finished runs are skipped, and a run folder without a record (an
 * interrupted run) is handed to the executor with {@code resume=true}.
 *
 * <p>Sharded ({@link Builder#optShard}, {@link Builder#optPhase}): the invocation performs only its
 * shard's runs of the phase (see {@link SuitePlan}, {@link Shard}), each under a claim ({@link
 * RunClaims}) so that no two processes perform the same run, writing records into the shared folder
 * exactly as an unsharded suite; a student whose teacher is missing waits for the live process
 * training it, or trains it under its claim. Sharded invocations write no CSVs or table: {@link
 * #report()} merges whatever is finished.
 */
public final class SuiteRunner {

    private final SuiteSpec spec;
    private final Path suiteDir;
    private final SuiteLayout layout;
    private final RunExecutor executor;
    private final boolean resume;
    private final int maxRuns;
    private final boolean plots;
    private final Consumer<String> log;
    private final Shard shard;
    private final SuitePhase phase;
    private final Duration claimTimeout;
    private final Duration poll;

    private SuiteRunner(Builder b) {
        this.spec = b.spec;
        this.suiteDir = b.suiteDir;
        this.layout = new SuiteLayout(b.out);
        this.executor = b.executor;
        this.resume = b.resume;
        this.maxRuns = b.maxRuns;
        this.plots = b.plots;
        this.log = b.log;
        this.shard = b.shard;
        this.phase = b.phase;
        this.claimTimeout = b.claimTimeout;
        this.poll = b.poll;
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** What one invocation did. */
    public record Outcome(
            int executed, int skipped, int total, boolean complete, List<RunRecord> records) {}

    /**
     * Runs the suite.
     *
     * @return counts of executed and skipped runs, and all finished records
     * @throws Exception if a run fails or the output folder cannot be written
     */
    public Outcome run() throws Exception {
        if (shard != null || phase != SuitePhase.ALL) {
            return new Sharded(shard == null ? Shard.ALL : shard).run();
        }
        prepareOut();
        ObjectNode base = spec.baseTree(suiteDir);
        List<PairSpec> pairs = spec.pairList();
        int total = countTotal(pairs);
        int executed = 0;
        int skipped = 0;
        boolean stopped = false;

        Map<String, String> checkpoints = new LinkedHashMap<>();
        for (PairSpec p : pairs) {
            TeacherSpec t = p.teacher();
            if (checkpoints.containsKey(t.key())) {
                continue;
            }
            if (t.checkpoint() != null) {
                checkpoints.put(t.key(), t.checkpoint());
                continue;
            }
            Path dir = layout.teacherDir(t);
            RunRecord rec = finished(dir);
            if (rec == null) {
                if (executed >= maxRuns) {
                    stopped = true;
                    break;
                }
                RunRequest req =
                        new RunRequest(
                                p.name(),
                                RunRecord.ROLE_TEACHER,
                                SuiteLayout.TEACHER,
                                "train",
                                t.model(),
                                t.seed(),
                                RunConfigs.teacherYaml(base, t),
                                RunConfigs.overrides(spec, p, t.overrides()),
                                dir,
                                interrupted(dir));
                rec = execute(req);
                executed++;
            } else {
                skipped++;
            }
            if (rec.checkpoint() == null) {
                throw new IllegalStateException(
                        "teacher run "
                                + dir
                                + " finished without a checkpoint path in its record; cannot distil from it");
            }
            checkpoints.put(t.key(), rec.checkpoint());
        }

        if (!stopped) {
            try {
                int[] counts = runStudents(base, pairs, checkpoints, executed);
                executed = counts[0];
                skipped += counts[1];
                stopped = counts[2] == 1;
            } catch (Exception e) {
                writeCsvs(pairs); // the CSVs list exactly the finished runs, also after a failure
                throw e;
            }
        }
        List<RunRecord> records = writeCsvs(pairs);
        boolean complete = !stopped;
        SuiteReport.write(layout, spec, records, complete, total);
        if (plots) {
            SuitePlots.write(layout, spec, records);
        }
        log.accept(
                String.format(
                        "suite %s: %d run(s) executed, %d already finished, %d of %d done%s",
                        spec.name(),
                        executed,
                        skipped,
                        executed + skipped,
                        total,
                        complete ? "" : " (stopped early; run again with --resume)"));
        return new Outcome(executed, skipped, total, complete, records);
    }

    /**
     * Runs the student runs not yet finished; returns {executed so far, skipped, stopped (0/1)}.
     */
    private int[] runStudents(
            ObjectNode base, List<PairSpec> pairs, Map<String, String> checkpoints, int executed)
            throws Exception {
        int skipped = 0;
        for (long seed : spec.seeds()) {
            for (PairSpec p : pairs) {
                for (MethodSpec m : spec.methods()) {
                    Path dir = layout.runDir(p.name(), m.label(), seed);
                    if (finished(dir) != null) {
                        skipped++;
                        continue;
                    }
                    if (executed >= maxRuns) {
                        return new int[] {executed, skipped, 1};
                    }
                    String ckpt = checkpoints.get(p.teacher().key());
                    RunRequest req =
                            new RunRequest(
                                    p.name(),
                                    RunRecord.ROLE_STUDENT,
                                    m.label(),
                                    m.method(),
                                    p.student(),
                                    seed,
                                    RunConfigs.studentYaml(base, p, m, ckpt, seed),
                                    RunConfigs.overrides(spec, p, m.overrides()),
                                    dir,
                                    interrupted(dir));
                    execute(req);
                    executed++;
                    writeCsvs(pairs);
                }
            }
        }
        return new int[] {executed, skipped, 0};
    }

    /**
     * Merges every finished run of the suite folder into results.csv, per_epoch.csv, table.md and
     * the plots, whatever process wrote them.
     *
     * @return no executed runs; the finished ones as skipped; complete when none is missing
     * @throws IOException if the folder holds no (or another) suite, or on a write error
     */
    public Outcome report() throws IOException {
        Path json = layout.suiteJson();
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(
                    "--report: "
                            + layout.out()
                            + " holds no started suite (no "
                            + json.getFileName()
                            + "); run the suite (or its shards) into it first");
        }
        checkSameSuite(json);
        List<PairSpec> pairs = spec.pairList();
        SuitePlan plan = new SuitePlan(spec, layout);
        List<RunRecord> records = writeCsvs(pairs);
        List<String> missing = new ArrayList<>();
        for (SuitePlan.Run r : plan.runs()) {
            if (finished(r.dir()) == null) {
                missing.add(r.index() + ":" + r.id());
            }
        }
        int total = plan.runs().size();
        SuiteReport.write(layout, spec, records, missing.isEmpty(), total);
        if (plots) {
            SuitePlots.write(layout, spec, records);
        }
        log.accept(
                String.format(
                        "report %s: %d of %d runs finished, %d missing%s",
                        spec.name(),
                        total - missing.size(),
                        total,
                        missing.size(),
                        missing.isEmpty()
                                ? ""
                                : " ("
                                        + String.join(
                                                ", ",
                                                missing.subList(0, Math.min(10, missing.size())))
                                        + (missing.size() > 10 ? ", ..." : "")
                                        + ")"));
        return new Outcome(0, total - missing.size(), total, missing.isEmpty(), records);
    }

    /** One sharded invocation: its runs of the phase under claims, then stale runs of others. */
    private final class Sharded {
        private final Shard me;
        private final SuitePlan plan = new SuitePlan(spec, layout);
        private final RunClaims claims;
        private ObjectNode base;
        private int executed;
        private int skipped;
        private int busy;

        Sharded(Shard me) {
            this.me = me;
            this.claims = new RunClaims(layout.out(), claimTimeout, me, log);
        }

        Outcome run() throws Exception {
            prepareShared();
            base = spec.baseTree(suiteDir);
            boolean stopped = false;
            List<SuitePlan.Run> mine = plan.select(phase, me);
            for (SuitePlan.Run r : mine) {
                if (finished(r.dir()) != null) {
                    skipped++;
                    continue;
                }
                if (executed >= maxRuns) {
                    stopped = true;
                    break;
                }
                perform(r);
            }
            if (!stopped) {
                // runs of other shards whose process died: take them over (never an unclaimed one,
                // which belongs to a shard that may not have started yet)
                for (SuitePlan.Run r : plan.select(phase, Shard.ALL)) {
                    if (me.owns(r.position()) || finished(r.dir()) != null) {
                        continue;
                    }
                    RunClaims.State st = claims.state(r.id());
                    if (st.generation() > 0 && !st.live()) {
                        if (executed >= maxRuns) {
                            stopped = true;
                            break;
                        }
                        perform(r);
                    }
                }
            }
            log.accept(
                    String.format(
                            "suite %s shard %s (%s): %d run(s) executed, %d already finished, %d held by"
                                    + " another live process, of %d in this shard%s; merge with --report",
                            spec.name(),
                            me,
                            phase.name().toLowerCase(java.util.Locale.ROOT),
                            executed,
                            skipped,
                            busy,
                            mine.size(),
                            stopped ? " (stopped early; run again)" : ""));
            return new Outcome(executed, skipped, mine.size(), !stopped, List.of());
        }

        /**
         * Performs a run under its claim; returns its record, or null when another process holds
         * it.
         */
        private RunRecord perform(SuitePlan.Run r) throws Exception {
            String ckpt = r.teacher() ? null : teacherCheckpoint(r.pair());
            java.util.Optional<RunClaims.Claim> c = claims.tryClaim(r.id());
            if (c.isEmpty()) {
                RunClaims.State st = claims.state(r.id());
                log.accept(
                        r.index()
                                + ":"
                                + r.id()
                                + " is held by "
                                + (st.owner() == null ? "another process" : st.owner())
                                + "; left to it");
                busy++;
                return null;
            }
            try (RunClaims.Claim claim = c.get()) {
                RunRecord done = finished(r.dir());
                if (done != null) { // finished by another process between the check and the claim
                    skipped++;
                    return done;
                }
                releaseForeignLock(r, claim.previous());
                RunRequest req =
                        r.teacher()
                                ? new RunRequest(
                                        r.pair().name(),
                                        RunRecord.ROLE_TEACHER,
                                        SuiteLayout.TEACHER,
                                        "train",
                                        r.pair().teacher().model(),
                                        r.seed(),
                                        RunConfigs.teacherYaml(base, r.pair().teacher()),
                                        RunConfigs.overrides(
                                                spec, r.pair(), r.pair().teacher().overrides()),
                                        r.dir(),
                                        interrupted(r.dir()))
                                : new RunRequest(
                                        r.pair().name(),
                                        RunRecord.ROLE_STUDENT,
                                        r.label(),
                                        r.method().method(),
                                        r.pair().student(),
                                        r.seed(),
                                        RunConfigs.studentYaml(
                                                base, r.pair(), r.method(), ckpt, r.seed()),
                                        RunConfigs.overrides(
                                                spec, r.pair(), r.method().overrides()),
                                        r.dir(),
                                        interrupted(r.dir()));
                RunRecord rec = execute(req, claim);
                executed++;
                return rec;
            }
        }

        /**
         * Deletes the run lock (crcd-train's {@link RunLock}) left in the run's folder by the owner
         * of the stale claim just replaced when that owner ran on another host: the run lock cannot
         * check a process on another host and would refuse the folder, while the claim's missing
         * heartbeat already shows that the owner is gone. A lock of anyone else is left alone (the
         * run then fails with the lock's message).
         */
        private void releaseForeignLock(SuitePlan.Run r, RunClaims.Owner previous)
                throws IOException {
            Path lock = r.dir().resolve(RunLock.FILE);
            if (previous == null
                    || previous.host().equals(RunClaims.hostName())
                    || !Files.isRegularFile(lock)) {
                return;
            }
            java.util.Properties p = new java.util.Properties();
            try (java.io.Reader in = Files.newBufferedReader(lock)) {
                p.load(in);
            }
            if (previous.host().equals(p.getProperty("host"))
                    && Long.toString(previous.pid()).equals(p.getProperty("pid"))) {
                Files.deleteIfExists(lock);
                log.accept(
                        "claim: removed "
                                + lock
                                + " of "
                                + previous.host()
                                + " pid "
                                + previous.pid()
                                + " (its claim had no heartbeat for "
                                + claimTimeout
                                + ")");
            }
        }

        /**
         * The checkpoint of a pair's teacher: given, finished, awaited from a live process, or
         * trained here.
         */
        private String teacherCheckpoint(PairSpec pair) throws Exception {
            SuitePlan.Run t = plan.teacherOf(pair);
            if (t == null) {
                return pair.teacher().checkpoint();
            }
            boolean told = false;
            while (true) {
                RunRecord rec = finished(t.dir());
                if (rec == null) {
                    RunClaims.State st = claims.state(t.id());
                    if (!st.live()) {
                        rec = perform(t);
                    } else if (!told) {
                        log.accept(
                                "waiting for teacher "
                                        + t.id()
                                        + ", held by "
                                        + (st.owner() == null ? "another process" : st.owner()));
                        told = true;
                    }
                }
                if (rec != null) {
                    if (rec.checkpoint() == null) {
                        throw new IllegalStateException(
                                "teacher run "
                                        + t.dir()
                                        + " finished without a checkpoint path in its record; cannot distil from it");
                    }
                    return rec.checkpoint();
                }
                Thread.sleep(poll.toMillis());
            }
        }
    }

    /** Writes suite.json on the first start, or checks that the folder holds the same suite. */
    private void prepareShared() throws IOException {
        Path json = layout.suiteJson();
        if (Files.exists(json)) {
            checkSameSuite(json);
        } else {
            AtomicFiles.write(json, spec.canonicalJson()); // shards racing here write the same text
        }
    }

    private void checkSameSuite(Path json) throws IOException {
        if (!Files.readString(json).equals(spec.canonicalJson())) {
            throw new IllegalArgumentException(
                    "suite '"
                            + spec.name()
                            + "' differs from the one started in "
                            + layout.out()
                            + " (see "
                            + json
                            + "); restore the suite file or choose another --out");
        }
    }

    private int countTotal(List<PairSpec> pairs) {
        long teachers =
                pairs.stream()
                        .map(PairSpec::teacher)
                        .filter(t -> t.checkpoint() == null)
                        .map(TeacherSpec::key)
                        .distinct()
                        .count();
        return (int) teachers + spec.seeds().size() * pairs.size() * spec.methods().size();
    }

    private RunRecord execute(RunRequest req) throws Exception {
        return execute(req, null);
    }

    private RunRecord execute(RunRequest req, RunClaims.Claim claim) throws Exception {
        log.accept(
                String.format(
                        "%s %s %s seed %d -> %s%s",
                        req.pair(),
                        req.role(),
                        req.label(),
                        req.seed(),
                        req.runDir(),
                        req.resume() ? " (resuming)" : ""));
        Files.createDirectories(req.runDir());
        RunRecord rec = executor.execute(req);
        if (claim != null && claim.lost()) {
            throw new IllegalStateException(
                    "run "
                            + req.runDir()
                            + " was taken over by another process while this"
                            + " one ran (stalled longer than the claim timeout); its result is not recorded here");
        }
        rec.write(req.runDir().resolve(SuiteLayout.RECORD));
        log.accept(
                String.format(
                        "%s %s seed %d: last top-1 %.2f, best %.2f (epoch %d), %.0f s",
                        req.pair(),
                        req.label(),
                        req.seed(),
                        rec.lastTop1(),
                        rec.bestTop1(),
                        rec.bestEpoch(),
                        rec.seconds()));
        return rec;
    }

    private static RunRecord finished(Path dir) throws IOException {
        Path f = dir.resolve(SuiteLayout.RECORD);
        return Files.isRegularFile(f) ? RunRecord.read(f) : null;
    }

    private static boolean interrupted(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    private void prepareOut() throws IOException {
        Path json = layout.suiteJson();
        String canon = spec.canonicalJson();
        if (Files.exists(json)) {
            if (!resume) {
                throw new IllegalArgumentException(
                        "output folder "
                                + layout.out()
                                + " already holds a suite; pass --resume to continue it,"
                                + " or choose another --out");
            }
            checkSameSuite(json);
        } else {
            AtomicFiles.write(json, canon);
        }
    }

    /** Collects every finished record in suite order and writes results.csv and per_epoch.csv. */
    private List<RunRecord> writeCsvs(List<PairSpec> pairs) throws IOException {
        List<RunRecord> records = new ArrayList<>();
        for (PairSpec p : pairs) {
            TeacherSpec ts = p.teacher();
            RunRecord t = ts.checkpoint() == null ? finished(layout.teacherDir(ts)) : null;
            if (t != null) {
                records.add(t.withPair(p.name()));
            } else if (ts.checkpoint() != null && ts.top1() != null) {
                // a reused teacher: its known accuracy, as given in the suite
                records.add(
                        new RunRecord(
                                p.name(),
                                RunRecord.ROLE_TEACHER,
                                SuiteLayout.TEACHER,
                                "given",
                                ts.model(),
                                ts.seed(),
                                ts.top1(),
                                ts.top1(),
                                Double.NaN,
                                0,
                                0,
                                ts.checkpoint(),
                                List.of()));
            }
        }
        for (PairSpec p : pairs) {
            for (MethodSpec m : spec.methods()) {
                for (long seed : spec.seeds()) {
                    RunRecord r = finished(layout.runDir(p.name(), m.label(), seed));
                    if (r != null) {
                        records.add(r);
                    }
                }
            }
        }
        SuiteCsv.results(records).write(layout.resultsCsv());
        SuiteCsv.perEpoch(records).write(layout.perEpochCsv());
        return records;
    }

    /** Builder for {@link SuiteRunner}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private SuiteSpec spec;
        private Path suiteDir;
        private Path out;
        private RunExecutor executor;
        private boolean resume;
        private int maxRuns = Integer.MAX_VALUE;
        private boolean plots = true;
        private Consumer<String> log = System.out::println;
        private Shard shard;
        private SuitePhase phase = SuitePhase.ALL;
        private Duration claimTimeout = RunClaims.DEFAULT_TIMEOUT;
        private Duration poll = Duration.ofSeconds(5);

        Builder() {}

        /**
         * Performs only this shard's runs, each under a claim, into the shared output folder (which
         * may already hold the suite: shards always continue it).
         *
         * @param shard the shard, or {@code null} for the classic unsharded run
         * @return this builder
         */
        public Builder optShard(Shard shard) {
            this.shard = shard;
            return this;
        }

        /**
         * Performs only the teachers' or only the students' runs (implies claims, as a shard).
         *
         * @param phase the phase (default {@link SuitePhase#ALL})
         * @return this builder
         */
        public Builder optPhase(SuitePhase phase) {
            this.phase = phase;
            return this;
        }

        /**
         * Sets after how long without heartbeat another process's claim is taken over, and how
         * often a student waiting for another process's teacher looks again.
         *
         * @param timeout the claim timeout (default 10 minutes)
         * @param poll the waiting interval (default 5 s)
         * @return this builder
         */
        public Builder optClaimTimeout(Duration timeout, Duration poll) {
            if (timeout.isNegative() || timeout.isZero() || poll.isNegative() || poll.isZero()) {
                throw new IllegalArgumentException(
                        "claim timeout and poll interval must be > 0, got "
                                + timeout
                                + " and "
                                + poll);
            }
            this.claimTimeout = timeout;
            this.poll = poll;
            return this;
        }

        /**
         * Sets the suite.
         *
         * @param spec the suite
         * @param suiteDir the suite file's folder (for a relative base path), or {@code null}
         * @return this builder
         */
        public Builder setSuite(SuiteSpec spec, Path suiteDir) {
            this.spec = spec;
            this.suiteDir = suiteDir;
            return this;
        }

        /**
         * Sets the output folder.
         *
         * @param out the folder
         * @return this builder
         */
        public Builder setOut(Path out) {
            this.out = out;
            return this;
        }

        /**
         * Sets what performs each run.
         *
         * @param executor the executor
         * @return this builder
         */
        public Builder setExecutor(RunExecutor executor) {
            this.executor = executor;
            return this;
        }

        /**
         * Continues a suite already started in the output folder.
         *
         * @param resume {@code true} to resume
         * @return this builder
         */
        public Builder optResume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /**
         * Stops after this many runs have been executed in this invocation (the rest is left for a
         * later {@code --resume}).
         *
         * @param maxRuns the limit, at least 0
         * @return this builder
         */
        public Builder optMaxRuns(int maxRuns) {
            if (maxRuns < 0) {
                throw new IllegalArgumentException("max runs must be >= 0, got " + maxRuns);
            }
            this.maxRuns = maxRuns;
            return this;
        }

        /**
         * Whether to draw the PNG plots (default on).
         *
         * @param plots {@code false} to skip them
         * @return this builder
         */
        public Builder optPlots(boolean plots) {
            this.plots = plots;
            return this;
        }

        /**
         * Sets where progress lines go (default standard output).
         *
         * @param log the sink
         * @return this builder
         */
        public Builder optLog(Consumer<String> log) {
            this.log = log;
            return this;
        }

        /**
         * Builds the runner.
         *
         * @return the runner
         */
        public SuiteRunner build() {
            if (spec == null || out == null || executor == null) {
                throw new IllegalStateException(
                        "SuiteRunner needs a suite, an output folder and an executor");
            }
            return new SuiteRunner(this);
        }
    }
}
