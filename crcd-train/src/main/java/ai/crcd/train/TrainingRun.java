package ai.crcd.train;

import ai.crcd.core.Distiller;
import ai.crcd.core.training.DistillStep;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigValidator;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.loop.Evaluation;
import ai.crcd.train.loop.FinalModelListener;
import ai.crcd.train.loop.RunContext;
import ai.crcd.train.loop.RunListener;
import ai.crcd.train.loop.RunSetup;
import ai.crcd.train.loop.StandardListeners;
import ai.crcd.train.loop.TrainingStages;
import ai.crcd.train.run.AtomicFiles;
import ai.crcd.train.run.RunFolder;
import ai.crcd.train.run.RunLock;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * One training or distillation run, from a validated {@link RunConfig} to a run folder, in named
 * stages: validate (the method's options parsed once) → {@link RunSetup} (folder, data, networks,
 * distiller, optimiser, the one {@link DistillStep}, restored checkpoint) → per epoch: train (the
 * step on every batch), evaluate, tell the {@link RunListener}s → end.
 *
 * <p>Everything a run writes is a listener ({@link StandardListeners}: NaN policy, checkpoint,
 * metrics CSV/JSONL, curves, final model, summary, progress, {@code output.log_file}); {@link
 * Builder#addListener} adds a user's own. The loop never names a method.
 *
 * <p>All randomness is derived from (seed, epoch), so a run resumed from the checkpoint of epoch k
 * continues exactly as the uninterrupted run (see docs/training.md).
 */
public final class TrainingRun {

    /** File name of the trained network's parameters in the run folder. */
    public static final String MODEL_FILE = FinalModelListener.MODEL_FILE;

    /** File name of the resolved config in the run folder. */
    public static final String CONFIG_FILE = RunSetup.CONFIG_FILE;

    private final RunConfig cfg;
    private final Path dir;
    private final boolean resume;
    private final Catalog catalog;
    private final PrintStream console;
    private final List<RunListener> extra;
    private final int stopAfterEpochs;
    private final BiConsumer<String, Object> probe;

    private TrainingRun(Builder b) {
        this.cfg = b.cfg;
        this.dir = b.dir;
        this.resume = b.resume;
        this.catalog = b.catalog;
        this.console = b.console;
        this.extra = List.copyOf(b.listeners);
        this.stopAfterEpochs = b.stopAfterEpochs;
        this.probe = b.probe;
    }

    /**
     * Returns a builder for a run of a config into a folder.
     *
     * @param cfg the config (validated again, files included)
     * @param outDir the run folder
     * @return the builder
     */
    public static Builder builder(RunConfig cfg, Path outDir) {
        return new Builder(cfg, outDir);
    }

    /**
     * Runs a config with the standard catalog.
     *
     * @param cfg the config (validated again here, files included)
     * @param outDir the run folder
     * @param resume continue from the folder's checkpoint
     * @return the metrics
     * @throws ConfigException for a bad config or missing file
     * @throws TrainingException for a non-finite loss or an unreadable checkpoint
     */
    public static RunResult execute(RunConfig cfg, Path outDir, boolean resume) {
        return builder(cfg, outDir).optResume(resume).build().run();
    }

    /**
     * Runs a config with the given catalog.
     *
     * @param cfg the config
     * @param outDir the run folder
     * @param resume continue from the folder's checkpoint
     * @param catalog the models and data sets
     * @return the metrics
     */
    public static RunResult execute(RunConfig cfg, Path outDir, boolean resume, Catalog catalog) {
        return builder(cfg, outDir).optResume(resume).optCatalog(catalog).build().run();
    }

    /**
     * Test hook: runs at most {@code epochs} epochs (init-stage epochs count) in this process (as
     * if killed after them) and reports internal objects ({@code "teacher"}, {@code "student"},
     * {@code "arrays"}) to {@code probe}.
     */
    static RunResult execute(
            RunConfig cfg,
            Path outDir,
            boolean resume,
            Catalog catalog,
            int epochs,
            BiConsumer<String, Object> probe) {
        Builder b = builder(cfg, outDir).optResume(resume).optCatalog(catalog);
        b.stopAfterEpochs = epochs;
        b.probe = probe;
        return b.build().run();
    }

    /**
     * Runs: validate, set up, the epochs, the end.
     *
     * @return the metrics of every epoch
     * @throws ConfigException for a bad config or missing file
     * @throws TrainingException for a non-finite loss or an unreadable checkpoint
     */
    public RunResult run() {
        Distiller distiller = ConfigValidator.validateAndCreate(cfg, catalog);
        try (distiller) {
            ConfigValidator.checkFiles(cfg);
            RunFolder.beforeRun(cfg, dir, resume); // h3b: output.dir writable, --resume same run
            try (RunLock lock = RunLock.acquire(dir)) { // h3a: one run per folder, before writes
                return locked(distiller);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private RunResult locked(Distiller distiller) throws IOException {
        AtomicFiles.deleteStaleTemps(dir); // writes a killed run left; the lock keeps others out
        boolean fromCheckpoint = RunSetup.prepareFolder(cfg, dir, resume);
        Device device = Devices.select(cfg.device);
        try (NDManager root = NDManager.newBaseManager(device)) {
            RunContext ctx = RunSetup.build(cfg, dir, catalog, distiller, device, root);
            try {
                return loop(ctx, fromCheckpoint);
            } finally {
                ctx.train().loader().close();
                ctx.test().loader().close();
            }
        }
    }

    private RunResult loop(RunContext ctx, boolean fromCheckpoint) throws IOException {
        if (fromCheckpoint) {
            RunSetup.restore(ctx);
        }
        RunSetup.writeConfig(cfg, dir); // h3b: the resolved config, once every check has passed
        if (ctx.distill()) {
            RunSetup.describeTeacher(ctx);
        }
        List<RunListener> listeners = StandardListeners.of(cfg, console);
        listeners.addAll(extra);
        TrainingStages stages = new TrainingStages(ctx, listeners);
        stages.begin();
        int ran = 0;
        for (int e = ctx.initStartEpoch(); e < ctx.initEpochs(); e++) { // #14: the init stage
            if (ran++ >= stopAfterEpochs) {
                break;
            }
            stages.initEpoch(e);
            probe.accept("arrays", ctx.manager().getManagedArrays().size());
        }
        for (int epoch = ctx.startEpoch(); epoch < cfg.optim.epochs; epoch++) {
            if (ran++ >= stopAfterEpochs) {
                break;
            }
            stages.epoch(epoch);
            probe.accept("arrays", ctx.manager().getManagedArrays().size());
        }
        RunResult result = stages.end();
        probe.accept("teacher", ctx.step().teacher());
        probe.accept("student", ctx.step().network().student());
        return result;
    }

    /**
     * Top-1 and top-5 accuracy of a network on a loader, with one host copy at the end.
     *
     * @return {top1 %, top5 %}
     */
    static double[] evaluate(
            ai.djl.nn.Block net,
            ai.djl.training.ParameterStore ps,
            ai.crcd.train.data.BatchLoader loader,
            int classes,
            NDManager root) {
        Evaluation e = Evaluation.of(net, ps, loader, classes, root);
        return new double[] {e.top1(), e.top5()};
    }

    /** Builder: {@code opt*} are optional. */
    public static final class Builder {
        private final RunConfig cfg;
        private final Path dir;
        private boolean resume;
        private Catalog catalog = Catalog.standard();
        private PrintStream console = System.err;
        private final List<RunListener> listeners = new ArrayList<>();
        private int stopAfterEpochs = Integer.MAX_VALUE;
        private BiConsumer<String, Object> probe = (k, v) -> {};

        Builder(RunConfig cfg, Path dir) {
            this.cfg = cfg;
            this.dir = dir;
        }

        /**
         * Continues from the folder's checkpoint; default off.
         *
         * @param resume whether to resume
         * @return this builder
         */
        public Builder optResume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /**
         * Sets the models and data sets; default {@link Catalog#standard()}.
         *
         * @param catalog the catalog
         * @return this builder
         */
        public Builder optCatalog(Catalog catalog) {
            this.catalog = catalog;
            return this;
        }

        /**
         * Sets where the progress line goes; default stderr.
         *
         * @param console the stream
         * @return this builder
         */
        public Builder optConsole(PrintStream console) {
            this.console = console;
            return this;
        }

        /**
         * Adds a listener, called after the standard ones.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder addListener(RunListener listener) {
            listeners.add(listener);
            return this;
        }

        /**
         * Builds the run.
         *
         * @return the run
         */
        public TrainingRun build() {
            return new TrainingRun(this);
        }
    }
}
