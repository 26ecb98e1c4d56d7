package ai.crcd.bench.suite;

import ai.crcd.bench.io.AtomicFiles;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs a suite: each distinct teacher once (or reuses its checkpoint), then every
 * seed x pair x method student run with the same budget, and writes the CSVs, the table and the
 * plots.
 *
 * <p>Resumable: a finished run is marked by its {@code record.json}, written atomically as the
 * run's last act. With resume on, finished runs are skipped, and a run folder without a record
 * (an interrupted run) is handed to the executor with {@code resume=true}.
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

    private SuiteRunner(Builder b) {
        this.spec = b.spec;
        this.suiteDir = b.suiteDir;
        this.layout = new SuiteLayout(b.out);
        this.executor = b.executor;
        this.resume = b.resume;
        this.maxRuns = b.maxRuns;
        this.plots = b.plots;
        this.log = b.log;
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
    public record Outcome(int executed, int skipped, int total, boolean complete, List<RunRecord> records) {}

    /**
     * Runs the suite.
     *
     * @return counts of executed and skipped runs, and all finished records
     * @throws Exception if a run fails or the output folder cannot be written
     */
    public Outcome run() throws Exception {
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
                RunRequest req = new RunRequest(p.name(), RunRecord.ROLE_TEACHER, SuiteLayout.TEACHER,
                        "train", t.model(), t.seed(), RunConfigs.teacherYaml(base, t),
                        RunConfigs.overrides(spec, p, t.overrides()), dir, interrupted(dir));
                rec = execute(req);
                executed++;
            } else {
                skipped++;
            }
            if (rec.checkpoint() == null) {
                throw new IllegalStateException(
                        "teacher run " + dir + " finished without a checkpoint path in its record; cannot distil from it");
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
        log.accept(String.format("suite %s: %d run(s) executed, %d already finished, %d of %d done%s",
                spec.name(), executed, skipped, executed + skipped, total,
                complete ? "" : " (stopped early; run again with --resume)"));
        return new Outcome(executed, skipped, total, complete, records);
    }

    /** Runs the student runs not yet finished; returns {executed so far, skipped, stopped (0/1)}. */
    private int[] runStudents(ObjectNode base, List<PairSpec> pairs, Map<String, String> checkpoints,
            int executed) throws Exception {
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
                    RunRequest req = new RunRequest(p.name(), RunRecord.ROLE_STUDENT, m.label(), m.method(),
                            p.student(), seed, RunConfigs.studentYaml(base, p, m, ckpt, seed),
                            RunConfigs.overrides(spec, p, m.overrides()), dir, interrupted(dir));
                    execute(req);
                    executed++;
                    writeCsvs(pairs);
                }
            }
        }
        return new int[] {executed, skipped, 0};
    }

    private int countTotal(List<PairSpec> pairs) {
        long teachers = pairs.stream().map(PairSpec::teacher).filter(t -> t.checkpoint() == null)
                .map(TeacherSpec::key).distinct().count();
        return (int) teachers + spec.seeds().size() * pairs.size() * spec.methods().size();
    }

    private RunRecord execute(RunRequest req) throws Exception {
        log.accept(String.format("%s %s %s seed %d -> %s%s", req.pair(), req.role(), req.label(),
                req.seed(), req.runDir(), req.resume() ? " (resuming)" : ""));
        Files.createDirectories(req.runDir());
        RunRecord rec = executor.execute(req);
        rec.write(req.runDir().resolve(SuiteLayout.RECORD));
        log.accept(String.format("%s %s seed %d: last top-1 %.2f, best %.2f (epoch %d), %.0f s",
                req.pair(), req.label(), req.seed(), rec.lastTop1(), rec.bestTop1(), rec.bestEpoch(),
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
                        "output folder " + layout.out() + " already holds a suite; pass --resume to continue it,"
                                + " or choose another --out");
            }
            if (!Files.readString(json).equals(canon)) {
                throw new IllegalArgumentException(
                        "suite '" + spec.name() + "' differs from the one started in " + layout.out()
                                + " (see " + json + "); restore the suite file or choose another --out");
            }
        } else {
            AtomicFiles.writeString(json, canon);
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
                records.add(new RunRecord(p.name(), RunRecord.ROLE_TEACHER, SuiteLayout.TEACHER, "given",
                        ts.model(), ts.seed(), ts.top1(), ts.top1(), Double.NaN, 0, 0, ts.checkpoint(),
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

        Builder() {}

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
         * Stops after this many runs have been executed in this invocation (the rest is left
         * for a later {@code --resume}).
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
                throw new IllegalStateException("SuiteRunner needs a suite, an output folder and an executor");
            }
            return new SuiteRunner(this);
        }
    }
}
