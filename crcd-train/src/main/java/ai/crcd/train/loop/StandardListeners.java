package ai.crcd.train.loop;

import ai.crcd.train.config.RunConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** The listeners every crcd-train run has, in the order they are called. */
public final class StandardListeners {

    private StandardListeners() {}

    /**
     * Returns the standard listeners for a config: NaN policy and loss guard, DJL model folders,
     * checkpoint, metrics files, curves, final model, summary, progress, and the {@code
     * output.log_file} log when set.
     *
     * @param cfg the config
     * @param console where progress goes
     * @return a new mutable list
     */
    public static List<RunListener> of(RunConfig cfg, PrintStream console) {
        List<RunListener> l = new ArrayList<>();
        l.add(new LossGuardListener());
        l.add(new ModelSnapshotListener()); // h4b: RUN/model and RUN/best, before the checkpoint
        l.add(new CheckpointListener());
        l.add(new MetricsListener());
        l.add(new CurvesListener());
        l.add(new FinalModelListener());
        l.add(new SummaryListener());
        l.add(new ProgressListener(console));
        if (cfg.output.logFile != null) {
            l.add(new EpochLogListener(cfg.output.logFile));
        }
        return l;
    }
}
