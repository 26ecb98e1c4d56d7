package ai.crcd.train;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.Scalars;
import ai.crcd.core.StudentWithAuxiliary;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.ConfigValidator;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.BatchLoader;
import ai.crcd.train.data.IndexedBatch;
import ai.crcd.train.imports.TorchImport;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.model.ModelSnapshots;
import ai.crcd.train.optim.MultiStepSchedule;
import ai.crcd.train.optim.PyTorchSgd;
import ai.crcd.train.run.Checkpoint;
import ai.crcd.train.run.CorruptFileException;
import ai.crcd.train.run.LossGuard;
import ai.crcd.train.run.ParameterFiles;
import ai.crcd.train.run.Progress;
import ai.crcd.train.run.RunFiles;
import ai.crcd.train.run.RunFolder;
import ai.crcd.train.run.RunLock;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training or distillation run, from a validated {@link RunConfig} to a run folder.
 *
 * <p>Per step: teacher forward (inference mode, frozen, its own parameter store, no gradient);
 * student forward; {@code ce_weight * CE} plus the distiller's weighted terms; backward; one
 * {@link PyTorchSgd} update of the student and the distiller's auxiliary block; then {@link
 * Distiller#afterStep}. Every per-step array lives in the batch's manager and is freed with it.
 * The loop never names a method: it talks to {@link Distiller} only.
 *
 * <p>After every epoch: evaluation (top-1/top-5 on the test split), an atomic checkpoint, metrics
 * files and curves. All randomness is derived from (seed, epoch), so a run resumed from the
 * checkpoint of epoch k continues exactly as the uninterrupted run (see docs/training.md).
 */
public final class TrainingRun {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

    /** File name of the trained network's parameters in the run folder. */
    public static final String MODEL_FILE = "model.params";

    /** File name of the resolved config in the run folder. */
    public static final String CONFIG_FILE = "config.yaml";

    private final RunConfig cfg;
    private final Path dir;
    private final boolean resume;
    private final Catalog catalog;
    private final PrintStream console;
    private int stopAfterEpochs = Integer.MAX_VALUE;
    private BiConsumer<String, Object> probe = (k, v) -> {};
    private LossGuard guard; // h3a: divergence / skip-limit stop, set in runChecked

    private TrainingRun(RunConfig cfg, Path dir, boolean resume, Catalog catalog) {
        this.cfg = cfg;
        this.dir = dir;
        this.resume = resume;
        this.catalog = catalog;
        this.console = System.err;
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
        return execute(cfg, outDir, resume, Catalog.standard());
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
        return new TrainingRun(cfg, outDir, resume, catalog).run();
    }

    /**
     * Test hook: runs at most {@code epochs} epochs in this process (as if killed after them) and
     * reports internal objects ({@code "teacher"}, {@code "arrays"}) to {@code probe}.
     */
    static RunResult execute(
            RunConfig cfg,
            Path outDir,
            boolean resume,
            Catalog catalog,
            int epochs,
            BiConsumer<String, Object> probe) {
        TrainingRun r = new TrainingRun(cfg, outDir, resume, catalog);
        r.stopAfterEpochs = epochs;
        r.probe = probe;
        return r.run();
    }

    private RunResult run() {
        ConfigValidator.validate(cfg, catalog);
        ConfigValidator.checkFiles(cfg);
        RunFolder.beforeRun(cfg, dir, resume); // h3b: output.dir writable, --resume same run
        try (RunLock lock = RunLock.acquire(dir)) { // h3a: one run per folder, before any write
            return runChecked();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private int seedFor(int epoch) {
        long h = cfg.seed * 0x9E3779B97F4A7C15L + (epoch + 1) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 31)) & 0x7fffffff;
    }

    private RunResult runChecked() throws IOException {
        Files.createDirectories(dir);
        Path ckptFile = dir.resolve(Checkpoint.FILE);
        boolean fromCheckpoint = resume && Files.exists(ckptFile);
        if (!resume && Files.exists(ckptFile)) {
            throw ConfigException.bad(
                    "output.dir",
                    dir,
                    "a folder without a checkpoint (this one holds an earlier run: pass --resume"
                            + " to continue it, or choose another output.dir)");
        }
        if (resume && !fromCheckpoint) {
            LOG.warn("--resume: no {} in {}, starting from epoch 1", Checkpoint.FILE, dir);
        }
        Device device = Devices.select(cfg.device);
        Engine engine = Engine.getInstance();
        boolean distill = "distill".equals(cfg.kind);
        double baseLr = cfg.resolvedLr();
        RunConfig resolved = ConfigLoader.bind(ConfigLoader.toYaml(cfg), List.of(), "resolved");
        resolved.optim.lr = baseLr;
        String yaml = ConfigLoader.toYaml(resolved);
        Path cfgFile = dir.resolve(CONFIG_FILE);
        if (fromCheckpoint && Files.exists(cfgFile) && !Files.readString(cfgFile).equals(yaml)) {
            LOG.warn(
                    "--resume: the config differs from {}; the result will not equal an"
                            + " uninterrupted run of either",
                    cfgFile);
        }

        try (NDManager root = NDManager.newBaseManager(device)) {
            engine.setRandomSeed(seedFor(-1));
            Catalog.Splits splits = catalog.openSplits(cfg.data, cfg.seed, root); // h2-data
            Catalog.Split train = splits.train();
            Catalog.Split test = splits.test();
            int classes = classCount(train);
            Shape inShape = new Shape(1, train.channels(), train.height(), train.width());

            DistillableNetwork student =
                    catalog.createModel(cfg.model.name, classes, train.channels());
            student.initialize(root, DataType.FLOAT32, inShape);
            DistillableNetwork teacher = null;
            if (distill) {
                teacher = catalog.createModel(cfg.teacher.name, classes, train.channels());
                teacher.initialize(root, DataType.FLOAT32, inShape);
                try {
                    if (TorchImport.isTorchFile(Path.of(cfg.teacher.checkpoint))) { // h6-import
                        TorchImport.loadTeacher(teacher, cfg.teacher.name, cfg.teacher.checkpoint, root);
                    } else {
                        // crcd model.params, or a DJL model folder (RUN/model, RUN/best, RUN)
                        ModelFolder.readWeights(
                                teacher, Path.of(cfg.teacher.checkpoint), cfg.teacher.name,
                                () -> catalog.createModel(cfg.teacher.name, classes, train.channels()),
                                root);
                    }
                } catch (CorruptFileException e) { // h3a: checksum / truncation / non-finite
                    throw new ConfigException("teacher.checkpoint: " + e.getMessage());
                } catch (IllegalArgumentException e) {
                    throw ConfigException.bad(
                            "teacher.checkpoint",
                            cfg.teacher.checkpoint,
                            "parameters of a trained "
                                    + cfg.teacher.name
                                    + " with "
                                    + classes
                                    + " classes ("
                                    + e.getMessage()
                                    + ")");
                }
                teacher.freezeParameters(true);
            }
            Distiller distiller =
                    Distillers.create(
                            cfg.distill.method,
                            new DistillerOptions("distill.options", cfg.distill.options));
            if (teacher != null) {
                DistillSetup setup =
                        DistillSetup.builder()
                                .setFeatureDims(teacher.featureDim(), student.featureDim())
                                .setNumClasses(classes)
                                .optDatasetLabels(train.labels())
                                .optSeed(cfg.seed)
                                .optOutputShapes(
                                        List.of(teacher.getOutputShapes(new Shape[] {inShape})),
                                        List.of(student.getOutputShapes(new Shape[] {inShape})))
                                .build();
                MemoryBudget.check(cfg, distiller, setup, device); // h3b: refuse what cannot fit
                distiller.initialize(root, setup);
            }
            StudentWithAuxiliary net = new StudentWithAuxiliary(student, distiller.auxiliaryBlock());
            List<Pair<String, Parameter>> trained = new ArrayList<>();
            for (Pair<String, Parameter> p : net.getParameters()) {
                if (p.getValue().requiresGradient()) {
                    trained.add(p);
                }
            }
            MultiStepSchedule schedule =
                    new MultiStepSchedule(baseLr, cfg.optim.milestones, cfg.optim.gamma);
            PyTorchSgd optimizer =
                    PyTorchSgd.builder()
                            .setSchedule(schedule)
                            .optMomentum(cfg.optim.momentum)
                            .optWeightDecay(cfg.optim.weightDecay)
                            .build();

            List<EpochMetrics> history = new ArrayList<>();
            int startEpoch = 0;
            long step = 0;
            if (fromCheckpoint) {
                Checkpoint ck;
                try {
                    ck = Checkpoint.read(ckptFile, root.newSubManager());
                } catch (CorruptFileException e) { // h3a: checksum / truncation / non-finite
                    throw new ConfigException(e.getMessage());
                } catch (IOException | RuntimeException e) {
                    throw new TrainingException(
                            ckptFile
                                    + ": cannot resume, "
                                    + RunFolder.unreadable(e) // h3b: plain words
                                    + "; delete it to start again from epoch 1, or restore a good"
                                    + " copy",
                            e);
                }
                RunFolder.checkEpochs(cfg.optim.epochs, ck.epochsDone(), dir); // h3b
                if (ck.seed() != cfg.seed) {
                    throw ConfigException.bad(
                            "seed",
                            cfg.seed,
                            ck.seed() + ", the seed of the checkpoint being resumed");
                }
                try { // h3b: a checkpoint of another model/method is one line
                    ParameterFiles.load(net, ck.parameters(), ckptFile.toString());
                    distiller.loadState(ck.distillerState());
                } catch (IllegalArgumentException e) {
                    throw RunFolder.mismatch(ckptFile, e);
                }
                Map<String, Parameter> byName = new HashMap<>();
                trained.forEach(p -> byName.put(p.getKey(), p.getValue()));
                for (NDArray m : ck.momentum()) {
                    Parameter p = byName.get(m.getName());
                    if (p == null) {
                        throw new TrainingException(
                                ckptFile + ": momentum for unknown parameter " + m.getName());
                    }
                    optimizer.setMomentum(p.getId(), m);
                }
                history.addAll(ck.history());
                startEpoch = ck.epochsDone();
                step = ck.step();
                LOG.info("resuming {} after epoch {} (step {})", dir, startEpoch, step);
            }
            // h3b: the resolved config is written once every check has passed
            ai.crcd.train.run.AtomicFiles.write(cfgFile, yaml);

            String label =
                    distill
                            ? "distill " + cfg.distill.method
                            : "train " + cfg.model.name;
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("kind", cfg.kind);
            extra.put("device", Devices.describe(cfg.device, device)); // h3b
            extra.put("model", cfg.model.name);
            extra.put("data", cfg.data.name + " (" + train.loader().size() + " train / "
                    + test.loader().size() + " test images)");
            ParameterStore teacherPs = new ParameterStore(root, false);
            if (teacher != null) {
                double[] tAcc = evaluate(teacher, teacherPs, test.loader(), classes, root);
                extra.put("teacher", cfg.teacher.name + " (" + cfg.teacher.checkpoint + ")");
                extra.put("teacher top-1 / top-5 (%)", RunFiles.pct(tAcc[0]) + " / "
                        + RunFiles.pct(tAcc[1]));
                extra.put("method", cfg.distill.method + " " + cfg.distill.options);
            }

            ParameterStore trainPs = new ParameterStore(root, false);
            ModelSnapshots snapshots = // RUN/model (last epoch) and RUN/best, DJL format
                    new ModelSnapshots(
                            dir,
                            ModelInfo.forSplit(cfg.model.name, cfg.kind, train),
                            new RunResult(history, dir).bestTop1());
            StepLoop loop =
                    new StepLoop(
                            engine, net, teacher, teacherPs, trainPs, distiller, optimizer,
                            trained, classes, root);
            Progress progress =
                    new Progress(
                            console,
                            label,
                            cfg.optim.epochs,
                            train.loader().batchesPerEpoch(),
                            cfg.output.progressSeconds);
            progress.resumedAt((long) startEpoch * train.loader().batchesPerEpoch());
            String title = label + " (" + cfg.model.name + " on " + cfg.data.name + ")";

            guard = new LossGuard(cfg.guard, "skip".equals(cfg.nanPolicy)); // h3a
            int ran = 0;
            for (int epoch = startEpoch; epoch < cfg.optim.epochs; epoch++) {
                if (ran++ >= stopAfterEpochs) {
                    break;
                }
                long t0 = System.nanoTime();
                engine.setRandomSeed(seedFor(epoch));
                optimizer.setEpoch(epoch);
                guard.beginEpoch(epoch, train.loader().batchesPerEpoch(), history); // h3a
                Map<String, Double> terms = loop.epoch(epoch, train.loader(), progress);
                guard.endEpoch(); // h3a: before the checkpoint, so a bad epoch is never written
                step += train.loader().batchesPerEpoch();
                double[] acc = evaluate(student, trainPs, test.loader(), classes, root);
                double total = terms.values().stream().mapToDouble(Double::doubleValue).sum();
                EpochMetrics m =
                        new EpochMetrics(
                                epoch + 1,
                                schedule.lr(epoch),
                                terms,
                                total,
                                acc[0],
                                acc[1],
                                (System.nanoTime() - t0) / 1e9);
                history.add(m);
                snapshots.epochEnd(student, epoch + 1, acc[0]); // before the checkpoint
                writeCheckpoint(ckptFile, epoch + 1, step, history, net, trained, optimizer,
                        distiller);
                RunFiles.writeMetrics(dir, history);
                RunFiles.writeCurves(dir, title, history);
                RunFiles.writeSummary(dir, title, new RunResult(history, dir), extra);
                progress.epochLine(
                        String.format(
                                Locale.ROOT,
                                "epoch %d/%d lr %.4g loss %.4f test top-1 %.2f top-5 %.2f (%.1fs)",
                                epoch + 1,
                                cfg.optim.epochs,
                                m.lr(),
                                m.trainLoss(),
                                m.testTop1(),
                                m.testTop5(),
                                m.seconds()));
                probe.accept("arrays", root.getManagedArrays().size());
            }
            RunResult result = new RunResult(history, dir);
            if (history.size() == cfg.optim.epochs) {
                ParameterFiles.save(student, dir.resolve(MODEL_FILE));
                RunFiles.writeSummary(dir, title, result, extra);
            }
            probe.accept("teacher", teacher);
            probe.accept("student", student);
            distiller.close();
            train.loader().close();
            test.loader().close();
            return result;
        }
    }

    private int classCount(Catalog.Split train) {
        int classes = cfg.model.numClasses != null ? cfg.model.numClasses : train.numClasses();
        if (classes != train.numClasses()) {
            throw ConfigException.bad(
                    "model.num_classes",
                    classes,
                    train.numClasses() + ", the class count of data set " + cfg.data.name);
        }
        if (cfg.teacher != null
                && cfg.teacher.numClasses != null
                && cfg.teacher.numClasses != classes) {
            throw ConfigException.bad(
                    "teacher.num_classes",
                    cfg.teacher.numClasses,
                    classes + ", the student's class count");
        }
        return classes;
    }

    private void writeCheckpoint(
            Path file,
            int epochsDone,
            long step,
            List<EpochMetrics> history,
            StudentWithAuxiliary net,
            List<Pair<String, Parameter>> trained,
            PyTorchSgd optimizer,
            Distiller distiller)
            throws IOException {
        NDList momentum = new NDList();
        for (Pair<String, Parameter> p : trained) {
            NDArray v = optimizer.momentum().get(p.getValue().getId());
            if (v != null) {
                v.setName(p.getKey());
                momentum.add(v);
            }
        }
        try (NDList params = ParameterFiles.toNDList(net)) {
            new Checkpoint(
                            epochsDone,
                            step,
                            cfg.seed,
                            history,
                            params,
                            momentum,
                            distiller.state())
                    .write(file);
        }
    }

    /**
     * Top-1 and top-5 accuracy of a network on a loader, with one host copy at the end; ties and
     * non-finite logits count as misses ({@link TopKHits}).
     *
     * @return {top1 %, top5 %}
     */
    static double[] evaluate(
            Block net, ParameterStore ps, BatchLoader loader, int classes, NDManager root) {
        try (NDManager acc = root.newSubManager()) {
            NDArray counts = acc.zeros(new Shape(2), DataType.INT64); // (2): top-1, top-5 hits
            long n = 0;
            Iterator<IndexedBatch> it = loader.epoch(0);
            while (it.hasNext()) {
                try (IndexedBatch b = it.next()) {
                    NDArray logits = net.forward(ps, new NDList(b.images()), false).get(0);
                    NDArray hits = TopKHits.counts(logits, b.labels(), 1, 5); // (2) ties miss
                    NDArray next = counts.add(hits);
                    next.attach(acc);
                    counts = next;
                    n += b.size();
                }
            }
            long[] c = counts.toLongArray();
            return new double[] {100.0 * c[0] / n, 100.0 * c[1] / n};
        }
    }

    /** The training steps of one epoch. */
    private final class StepLoop {
        private final Engine engine;
        private final StudentWithAuxiliary net;
        private final DistillableNetwork teacher;
        private final ParameterStore teacherPs;
        private final ParameterStore trainPs;
        private final Distiller distiller;
        private final PyTorchSgd optimizer;
        private final List<Pair<String, Parameter>> trained;
        private final int classes;
        private final NDManager root;
        private final boolean skip = "skip".equals(cfg.nanPolicy);
        private List<String> termNames;

        StepLoop(
                Engine engine,
                StudentWithAuxiliary net,
                DistillableNetwork teacher,
                ParameterStore teacherPs,
                ParameterStore trainPs,
                Distiller distiller,
                PyTorchSgd optimizer,
                List<Pair<String, Parameter>> trained,
                int classes,
                NDManager root) {
            this.engine = engine;
            this.net = net;
            this.teacher = teacher;
            this.teacherPs = teacherPs;
            this.trainPs = trainPs;
            this.distiller = distiller;
            this.optimizer = optimizer;
            this.trained = trained;
            this.classes = classes;
            this.root = root;
        }

        /** Runs one epoch; returns the mean of each loss term over the applied steps. */
        Map<String, Double> epoch(int epoch, BatchLoader loader, Progress progress) {
            double[] sums = null;
            int applied = 0;
            int stepInEpoch = 0;
            int flushedUpTo = 0;
            NDManager pendingMgr = root.newSubManager();
            List<NDArray> pending = new ArrayList<>();
            long images = 0;
            long t = System.nanoTime();
            double lastLoss = Double.NaN;
            Iterator<IndexedBatch> it = loader.epoch(epoch);
            try {
                while (it.hasNext()) {
                    stepInEpoch++;
                    try (IndexedBatch b = it.next()) {
                        images += b.size();
                        NDArray vec = step(b, epoch, stepInEpoch);
                        if (vec == null) {
                            guard.skipped(stepInEpoch); // h3a
                            continue; // skipped (nan_policy: skip)
                        }
                        if (skip) {
                            float[] v = vec.toFloatArray();
                            guard.step(stepInEpoch, termNames, v); // h3a
                            sums = add(sums, v);
                            applied++;
                            lastLoss = sum(v);
                        } else {
                            vec.attach(pendingMgr);
                            pending.add(vec);
                        }
                    }
                    if (!skip && (pending.size() >= cfg.output.logInterval || !it.hasNext())) {
                        float[][] rows = flush(pending, epoch, flushedUpTo);
                        for (float[] r : rows) {
                            sums = add(sums, r);
                            applied++;
                            lastLoss = sum(r);
                        }
                        flushedUpTo = stepInEpoch;
                        pending.clear();
                        pendingMgr.close();
                        pendingMgr = root.newSubManager();
                    }
                    long now = System.nanoTime();
                    progress.update(epoch + 1, stepInEpoch, 1, images, now - t, lastLoss);
                    images = 0;
                    t = now;
                }
            } finally {
                pendingMgr.close();
            }
            Map<String, Double> means = new LinkedHashMap<>();
            if (termNames != null) {
                for (int i = 0; i < termNames.size(); i++) {
                    means.put(termNames.get(i), applied == 0 ? Double.NaN : sums[i] / applied);
                }
            }
            return means;
        }

        private double[] add(double[] sums, float[] v) {
            double[] s = sums == null ? new double[v.length] : sums;
            for (int i = 0; i < v.length; i++) {
                s[i] += v[i];
            }
            return s;
        }

        private double sum(float[] v) {
            double s = 0;
            for (float x : v) {
                s += x;
            }
            return s;
        }

        /** One host copy for the pending steps; stops at the first non-finite term. */
        private float[][] flush(List<NDArray> pending, int epoch, int firstStep) {
            if (pending.isEmpty()) {
                return new float[0][];
            }
            NDArray all = NDArrays.stack(new NDList(pending)); // (S, T)
            float[] flat = all.toFloatArray();
            int t = termNames.size();
            float[][] rows = new float[pending.size()][];
            for (int s = 0; s < rows.length; s++) {
                rows[s] = java.util.Arrays.copyOfRange(flat, s * t, (s + 1) * t);
                guard.step(firstStep + s + 1, termNames, rows[s]); // h3a: finite, not diverged
            }
            return rows;
        }

        /**
         * One training step. Returns the (T) vector of weighted loss terms (detached), or null if
         * the step was skipped.
         */
        private NDArray step(IndexedBatch b, int epoch, int stepInEpoch) {
            NDArray x = b.images(); // (B, C, H, W)
            NDArray y = b.labels(); // (B)
            FeatureOutput tOut = null;
            if (teacher != null) {
                tOut = FeatureOutput.fromNDList(teacher.forward(teacherPs, new NDList(x), false));
            }
            DistillBatch db = null;
            NDArray vec;
            try (GradientCollector gc = engine.newGradientCollector()) {
                FeatureOutput sOut =
                        FeatureOutput.fromNDList(net.forward(trainPs, new NDList(x), true));
                Map<String, NDArray> terms = new LinkedHashMap<>();
                terms.put("ce", Scalars.mul(crossEntropy(sOut.logits(), y), cfg.loss.ceWeight));
                if (tOut != null) {
                    db =
                            DistillBatch.builder()
                                    .setTeacher(tOut)
                                    .setStudent(sOut)
                                    .setLabels(y)
                                    .setIndices(b.indices())
                                    .setParameterStore(trainPs)
                                    .optHeadWeights(
                                            teacher.classifierWeight().getArray(),
                                            net.student().classifierWeight().getArray())
                                    .build();
                    for (Map.Entry<String, NDArray> e :
                            distiller.losses(db).asMap().entrySet()) {
                        if (terms.put(e.getKey(), e.getValue()) != null) {
                            throw new IllegalStateException(
                                    "distiller " + distiller.name() + " returned term 'ce'");
                        }
                    }
                }
                if (termNames == null) {
                    termNames = new ArrayList<>(terms.keySet());
                }
                NDList parts = new NDList();
                for (NDArray v : terms.values()) {
                    parts.add(v.getDataType() == DataType.FLOAT32 ? v : v.toType(DataType.FLOAT32, false));
                }
                NDArray stacked = NDArrays.stack(parts); // (T)
                if (skip) {
                    float[] v = stacked.toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        if (!Float.isFinite(v[i])) {
                            LOG.warn(
                                    "skipping epoch {} step {}: term '{}' = {}",
                                    epoch + 1,
                                    stepInEpoch,
                                    termNames.get(i),
                                    v[i]);
                            return null;
                        }
                    }
                }
                gc.backward(stacked.sum());
                vec = stacked.stopGradient();
            }
            for (Pair<String, Parameter> p : trained) {
                NDArray w = p.getValue().getArray();
                try (NDArray g = w.getGradient()) {
                    optimizer.update(p.getValue().getId(), w, g);
                    g.subi(g); // zero the accumulated gradient for the next step
                }
            }
            if (db != null) {
                distiller.afterStep(db);
            }
            return vec;
        }
    }

    /**
     * Mean cross-entropy, built from GC-safe ops (see {@link Scalars}); the loop's CE term, shared
     * with crcd-bench's step benchmark.
     *
     * @param logits (B, C)
     * @param labels (B) int64
     * @return a scalar
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        long classes = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(1); // (B, C)
        NDArray picked = logp.mul(labels.oneHot((int) classes)).sum(); // ()
        return Scalars.mul(picked, -1.0 / logits.getShape().get(0));
    }
}
