package ai.crcd.train.loop;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.InitStage;
import ai.crcd.core.StudentWithAuxiliary;
import ai.crcd.core.training.DistillStep;
import ai.crcd.train.Catalog;
import ai.crcd.train.Devices;
import ai.crcd.train.MemoryBudget;
import ai.crcd.train.TrainingException;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.imports.TorchImport;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.optim.MultiStepSchedule;
import ai.crcd.train.optim.PyTorchSgd;
import ai.crcd.train.run.AtomicFiles;
import ai.crcd.train.run.Checkpoint;
import ai.crcd.train.run.CorruptFileException;
import ai.crcd.train.run.ParameterFiles;
import ai.crcd.train.run.RunFiles;
import ai.crcd.train.run.RunFolder;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The setup stage of a run: the run folder, the resolved config, data, networks (teacher loaded and
 * frozen), distiller, optimiser, the one {@link DistillStep}, and a restored checkpoint.
 */
public final class RunSetup {

    private static final Logger LOG = LoggerFactory.getLogger(RunSetup.class);

    /** File name of the resolved config in the run folder. */
    public static final String CONFIG_FILE = "config.yaml";

    private RunSetup() {}

    /**
     * Derives the random seed of an epoch from the run's seed (-1: setup).
     *
     * @param seed the run's seed
     * @param epoch the epoch, from 0, or -1
     * @return the engine seed
     */
    public static int seedFor(long seed, int epoch) {
        long h = seed * 0x9E3779B97F4A7C15L + (epoch + 1) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 31)) & 0x7fffffff;
    }

    /**
     * Returns the epoch index that seeds an init-stage epoch (engine seed via {@link #seedFor} and
     * the loader's order and augmentation): {@code -2 - initEpoch}, distinct from the setup (-1)
     * and every main epoch (&gt;= 0).
     *
     * @param initEpoch the init epoch, from 0
     * @return the index
     */
    public static int initEpochIndex(int initEpoch) {
        return -2 - initEpoch;
    }

    /**
     * Checks the run folder against the resume flag and writes the resolved config.
     *
     * @param cfg the config
     * @param dir the run folder
     * @param resume whether to resume
     * @return whether a checkpoint is to be restored
     * @throws IOException if the folder cannot be written
     */
    public static boolean prepareFolder(RunConfig cfg, Path dir, boolean resume)
            throws IOException {
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
        Path cfgFile = dir.resolve(CONFIG_FILE);
        if (fromCheckpoint
                && Files.exists(cfgFile)
                && !Files.readString(cfgFile).equals(resolvedYaml(cfg))) {
            LOG.warn(
                    "--resume: the config differs from {}; the result will not equal an"
                            + " uninterrupted run of either",
                    cfgFile);
        }
        return fromCheckpoint;
    }

    /**
     * Writes the resolved config (recipe lr filled in) to the run folder, atomically.
     *
     * @param cfg the config
     * @param dir the run folder
     * @throws IOException if writing fails
     */
    public static void writeConfig(RunConfig cfg, Path dir) throws IOException {
        AtomicFiles.write(dir.resolve(CONFIG_FILE), resolvedYaml(cfg));
    }

    private static String resolvedYaml(RunConfig cfg) {
        RunConfig resolved = ConfigLoader.bind(ConfigLoader.toYaml(cfg), List.of(), "resolved");
        resolved.optim.lr = cfg.resolvedLr();
        return ConfigLoader.toYaml(resolved);
    }

    /**
     * Builds everything a run trains with.
     *
     * @param cfg the validated config
     * @param dir the run folder
     * @param catalog models and data sets
     * @param distiller the run's distiller (created from the options once, by the validator)
     * @param device the device
     * @param root the run's manager
     * @return the context
     */
    public static RunContext build(
            RunConfig cfg,
            Path dir,
            Catalog catalog,
            Distiller distiller,
            Device device,
            NDManager root) {
        RunContext ctx = new RunContext(cfg, dir, device, root);
        ctx.distiller = distiller;
        Engine.getInstance().setRandomSeed(seedFor(cfg.seed, -1));
        Catalog.Splits splits = catalog.openSplits(cfg.data, cfg.seed, root); // h2-data
        ctx.train = splits.train();
        ctx.test = splits.test();
        ctx.classes = classCount(cfg, ctx.train);
        Shape inShape = new Shape(1, ctx.train.channels(), ctx.train.height(), ctx.train.width());
        boolean preAct = ctx.distill() && distiller.usesPreActivations(); // #14: AB
        DistillableNetwork student =
                catalog.createModel(cfg.model.name, ctx.classes, ctx.train.channels(), preAct);
        student.initialize(root, DataType.FLOAT32, inShape);
        DistillableNetwork teacher = ctx.distill() ? loadTeacher(ctx, catalog, inShape) : null;
        if (teacher != null) {
            DistillSetup setup = distillSetup(ctx, teacher, student, inShape);
            MemoryBudget.check(cfg, distiller, setup, device); // h3b: refuse what cannot fit
            try { // z1-zoo: a method rejecting these networks (fitnet's hint_layer) is one line
                distiller.initialize(root, setup);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
        }
        StudentWithAuxiliary net = new StudentWithAuxiliary(student, distiller.auxiliaryBlock());
        ctx.trained = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            if (p.getValue().requiresGradient()) {
                ctx.trained.add(p);
            }
        }
        ctx.schedule =
                new MultiStepSchedule(cfg.resolvedLr(), cfg.optim.milestones, cfg.optim.gamma);
        ctx.optimizer =
                PyTorchSgd.builder()
                        .setSchedule(ctx.schedule)
                        .optMomentum(cfg.optim.momentum)
                        .optWeightDecay(cfg.optim.weightDecay)
                        .build();
        DistillStep.Builder step =
                DistillStep.builder()
                        .setNetwork(net)
                        .setManager(root)
                        .optCeWeight(cfg.loss.ceWeight)
                        .optOptimizer(ctx.optimizer)
                        .optSkipNonFinite("skip".equals(cfg.nanPolicy));
        if (teacher != null) {
            step.optTeacher(teacher, distiller);
            distiller.initStage().ifPresent(s -> step.optInitOptimizer(initOptimizer(ctx, s)));
        }
        ctx.step = step.build();
        ctx.summaryLines.put("kind", cfg.kind);
        ctx.summaryLines.put("device", Devices.describe(cfg.device, device)); // h3b
        ctx.summaryLines.put("model", cfg.model.name);
        ctx.summaryLines.put(
                "data",
                cfg.data.name
                        + " ("
                        + ctx.train.loader().size()
                        + " train / "
                        + ctx.test.loader().size()
                        + " test images)");
        return ctx;
    }

    /**
     * The init stage's optimiser, as RepDistiller's {@code init()}: SGD with the run's momentum and
     * weight decay, a learning rate (the stage's own, else the run's base rate), constant unless
     * the stage has milestones.
     */
    private static PyTorchSgd initOptimizer(RunContext ctx, InitStage stage) {
        RunConfig cfg = ctx.cfg;
        ctx.initOptimizer =
                PyTorchSgd.builder()
                        .setSchedule(
                                new MultiStepSchedule(
                                        stage.learningRate().orElse(cfg.resolvedLr()),
                                        stage.milestones(), // s1: SSKD's teacher-head decay
                                        stage.gamma()))
                        .optMomentum(cfg.optim.momentum)
                        .optWeightDecay(cfg.optim.weightDecay)
                        .build();
        return ctx.initOptimizer;
    }

    private static DistillableNetwork loadTeacher(RunContext ctx, Catalog catalog, Shape inShape) {
        RunConfig cfg = ctx.cfg;
        DistillableNetwork teacher =
                catalog.createModel(
                        cfg.teacher.name,
                        ctx.classes,
                        ctx.train.channels(),
                        ctx.distiller.usesPreActivations());
        teacher.initialize(ctx.root, DataType.FLOAT32, inShape);
        try {
            if (TorchImport.isTorchFile(Path.of(cfg.teacher.checkpoint))) {
                // h6-import: a PyTorch .pth/.pt, mapped by teacher.name (one-line ConfigException)
                TorchImport.loadTeacher(
                        teacher, cfg.teacher.name, cfg.teacher.checkpoint, ctx.root);
            } else {
                // h4b: crcd model.params, or a DJL model folder (RUN/model, RUN/best, RUN)
                ModelFolder.readWeights(
                        teacher,
                        Path.of(cfg.teacher.checkpoint),
                        cfg.teacher.name,
                        () ->
                                catalog.createModel(
                                        cfg.teacher.name, ctx.classes, ctx.train.channels()),
                        ctx.root);
            }
        } catch (IllegalArgumentException e) {
            throw ConfigException.bad(
                    "teacher.checkpoint",
                    cfg.teacher.checkpoint,
                    "parameters of a trained "
                            + cfg.teacher.name
                            + " with "
                            + ctx.classes
                            + " classes ("
                            + e.getMessage()
                            + ")");
        } catch (CorruptFileException e) { // h3a: checksum / truncation / non-finite
            throw new ConfigException("teacher.checkpoint: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(cfg.teacher.checkpoint + ": " + e.getMessage(), e);
        }
        teacher.freezeParameters(true);
        return teacher;
    }

    private static DistillSetup distillSetup(
            RunContext ctx, DistillableNetwork teacher, DistillableNetwork student, Shape inShape) {
        return DistillSetup.builder()
                .setFeatureDims(teacher.featureDim(), student.featureDim())
                .setNumClasses(ctx.classes)
                .optDatasetLabels(ctx.train.labels())
                .optSeed(ctx.cfg.seed)
                .optOutputShapes(
                        List.of(teacher.getOutputShapes(new Shape[] {inShape})),
                        List.of(student.getOutputShapes(new Shape[] {inShape})))
                .build();
    }

    private static int classCount(RunConfig cfg, Catalog.Split train) {
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

    /**
     * Restores parameters, momentum, distiller state, history and counters from the run folder's
     * checkpoint.
     *
     * @param ctx the built context
     */
    public static void restore(RunContext ctx) {
        Path file = ctx.dir.resolve(Checkpoint.FILE);
        Checkpoint ck;
        try {
            ck = Checkpoint.read(file, ctx.root.newSubManager());
        } catch (CorruptFileException e) { // h3a: checksum / truncation / non-finite
            throw new ConfigException(e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw new TrainingException(
                    file
                            + ": cannot resume, "
                            + RunFolder.unreadable(e) // h3b: plain words
                            + "; delete it to start again from epoch 1, or restore a good copy",
                    e);
        }
        RunFolder.checkEpochs(ctx.cfg.optim.epochs, ck.epochsDone(), ctx.dir); // h3b
        if (ck.seed() != ctx.cfg.seed) {
            throw ConfigException.bad(
                    "seed", ctx.cfg.seed, ck.seed() + ", the seed of the checkpoint being resumed");
        }
        try { // h3b: a checkpoint of another model/method is one line
            ParameterFiles.load(ctx.step.network(), ck.parameters(), file.toString());
            ctx.distiller.loadState(ck.distillerState());
        } catch (IllegalArgumentException e) {
            throw RunFolder.mismatch(file, e);
        }
        Map<String, Parameter> byName = new HashMap<>();
        ctx.trained.forEach(p -> byName.put(p.getKey(), p.getValue()));
        // #14: a checkpoint written during the init stage holds the init optimiser's momentum
        boolean inInit = ck.epochsDone() == 0 && ck.initEpochsDone() > 0;
        if (inInit && ctx.initOptimizer == null) {
            throw RunFolder.mismatch(
                    file,
                    new IllegalArgumentException(
                            "it was written in an init stage, which "
                                    + ctx.cfg.distill.method
                                    + " does not have"));
        }
        PyTorchSgd momentumOwner = inInit ? ctx.initOptimizer : ctx.optimizer;
        for (NDArray m : ck.momentum()) {
            Parameter p = byName.get(m.getName());
            if (p == null) {
                throw new TrainingException(
                        file + ": momentum for unknown parameter " + m.getName());
            }
            momentumOwner.setMomentum(p.getId(), m);
        }
        ctx.history.addAll(ck.history());
        ctx.initHistory.addAll(ck.initHistory());
        ctx.initStartEpoch = ck.epochsDone() > 0 ? ctx.initEpochs() : ck.initEpochsDone();
        ctx.startEpoch = ck.epochsDone();
        ctx.globalStep = ck.step();
        if (inInit) {
            LOG.info(
                    "resuming {} in its init stage after init epoch {}",
                    ctx.dir,
                    ck.initEpochsDone());
        } else {
            LOG.info(
                    "resuming {} after epoch {} (step {})",
                    ctx.dir,
                    ctx.startEpoch,
                    ctx.globalStep);
        }
    }

    /**
     * Evaluates the teacher once and adds its accuracy to the summary.
     *
     * @param ctx the context of a distillation run
     */
    public static void describeTeacher(RunContext ctx) {
        DistillStep step = ctx.step;
        Evaluation t =
                Evaluation.of(
                        step.teacher(),
                        step.teacherParameterStore(),
                        ctx.test.loader(),
                        ctx.classes,
                        ctx.root);
        RunConfig cfg = ctx.cfg;
        ctx.summaryLines.put("teacher", cfg.teacher.name + " (" + cfg.teacher.checkpoint + ")");
        ctx.summaryLines.put(
                "teacher top-1 / top-5 (%)",
                RunFiles.pct(t.top1()) + " / " + RunFiles.pct(t.top5()));
        ctx.summaryLines.put("method", cfg.distill.method + " " + cfg.distill.options);
    }
}
