package ai.crcd.bench.suite;

import java.nio.file.Path;

/**
 * Where a suite writes its files under its output folder.
 *
 * <pre>
 * OUT/suite.json                        the suite as first run (a resume must match it)
 * OUT/teachers/KEY/                     a teacher's training run; record.json when finished
 * OUT/runs/PAIR/LABEL/seedS/            a student run; record.json when finished
 * OUT/results.csv, per_epoch.csv, table.md, accuracy[-PAIR].png, curves[-PAIR].png
 * </pre>
 */
public final class SuiteLayout {

    /** The label of teacher rows. */
    public static final String TEACHER = "teacher";

    /** The name of a finished run's record, written atomically as its last act. */
    public static final String RECORD = "record.json";

    private final Path out;

    /**
     * Creates the layout.
     *
     * @param out the suite's output folder
     */
    public SuiteLayout(Path out) {
        this.out = out;
    }

    /**
     * Returns the output folder.
     *
     * @return the folder
     */
    public Path out() {
        return out;
    }

    /**
     * Returns a teacher's run folder.
     *
     * @param teacher the teacher
     * @return the folder
     */
    public Path teacherDir(TeacherSpec teacher) {
        return out.resolve("teachers").resolve(teacher.key());
    }

    /**
     * Returns a student run's folder.
     *
     * @param pair the pair
     * @param label the method label
     * @param seed the seed
     * @return the folder
     */
    public Path runDir(String pair, String label, long seed) {
        return out.resolve("runs").resolve(pair).resolve(label).resolve("seed" + seed);
    }

    /**
     * Returns the suite description written on the first run.
     *
     * @return the file
     */
    public Path suiteJson() {
        return out.resolve("suite.json");
    }

    /**
     * Returns the raw per-run CSV.
     *
     * @return the file
     */
    public Path resultsCsv() {
        return out.resolve("results.csv");
    }

    /**
     * Returns the per-epoch CSV.
     *
     * @return the file
     */
    public Path perEpochCsv() {
        return out.resolve("per_epoch.csv");
    }

    /**
     * Returns the Markdown table.
     *
     * @return the file
     */
    public Path tableMd() {
        return out.resolve("table.md");
    }

    /**
     * Returns a plot's file; the pair's name is appended when the suite has several pairs.
     *
     * @param kind {@code "accuracy"} or {@code "curves"}
     * @param pair the pair's name, or {@code null} for a single-pair suite
     * @return the file
     */
    public Path plot(String kind, String pair) {
        return out.resolve(pair == null ? kind + ".png" : kind + "-" + pair + ".png");
    }
}
