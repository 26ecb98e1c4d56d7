package ai.crcd.bench.suite;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import ai.crcd.train.TrainingRun;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a suite's runs with crcd-train's {@link TrainingRun}: the config is bound and validated by
 * {@link ConfigLoader}, an interrupted run continues from its checkpoint.
 */
public final class TrainingRunExecutor implements RunExecutor {

    private final String device;

    /** Runs on the device of each run's config. */
    public TrainingRunExecutor() {
        this(null);
    }

    /**
     * Runs every run on one device, whatever the suite's base says (a process of a job array on its
     * own GPU). The device is not part of the suite's identity: shards on different devices share
     * one suite folder.
     *
     * @param device a crcd-train device name ({@code cpu}, {@code gpu1}, {@code gpu-local}, ...),
     *     or {@code null} for the config's
     */
    public TrainingRunExecutor(String device) {
        this.device = device;
    }

    @Override
    public RunRecord execute(RunRequest r) {
        List<String> overrides = new ArrayList<>(r.overrides());
        if (device != null) {
            overrides.add("device=" + device);
        }
        RunConfig cfg = ConfigLoader.fromString(r.configYaml(), overrides);
        RunResult res = TrainingRun.execute(cfg, r.runDir(), r.resume());
        List<EpochRow> history = new ArrayList<>();
        double seconds = 0;
        for (EpochMetrics m : res.history()) {
            Map<String, Double> losses = new LinkedHashMap<>(m.trainTerms());
            losses.put("total", m.trainLoss());
            history.add(
                    new EpochRow(
                            m.epoch(), m.lr(), losses, m.testTop1(), m.testTop5(), m.seconds()));
            seconds += m.seconds();
        }
        return new RunRecord(
                r.pair(),
                r.role(),
                r.label(),
                r.method(),
                r.model(),
                r.seed(),
                res.lastTop1(),
                res.bestTop1(),
                res.lastTop5(),
                res.bestEpoch(),
                seconds,
                r.runDir().resolve(TrainingRun.MODEL_FILE).toAbsolutePath().toString(),
                history);
    }
}
