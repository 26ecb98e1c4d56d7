package ai.crcd.train.config;

import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.train.Catalog;
import ai.crcd.train.data.DataOptions;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.TestSplit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a bound {@link RunConfig} before any training: names, ranges, consistency, and (in a
 * separate step, so that configs can be checked before their teacher exists) files.
 */
public final class ConfigValidator {

    private ConfigValidator() {}

    /**
     * Validates values and names.
     *
     * @param cfg the config
     * @param catalog the known models and data sets
     * @throws ConfigException naming the first bad key
     */
    public static void validate(RunConfig cfg, Catalog catalog) {
        validateAndCreate(cfg, catalog).close();
    }

    /**
     * Validates values and names and creates the run's distiller: the method's options are parsed
     * and checked once, by its factory, here.
     *
     * @param cfg the config
     * @param catalog the known models and data sets
     * @return the distiller of {@code distill.method} with {@code distill.options}, uninitialised
     * @throws ConfigException naming the first bad key
     */
    public static Distiller validateAndCreate(RunConfig cfg, Catalog catalog) {
        choice("kind", cfg.kind, "train", "distill");
        ai.crcd.train.Devices.checkName("device", cfg.device);
        if (cfg.devices != 1) {
            throw ConfigException.bad(
                    "devices",
                    cfg.devices,
                    "1 (multi-GPU data parallel is not implemented, see docs/training.md)");
        }
        choice("nan_policy", cfg.nanPolicy, "stop", "skip");
        section("guard", cfg.guard);
        RunConfig.Guard g = cfg.guard;
        if (!(g.nanSkipLimit >= 0 && g.nanSkipLimit < 1)) {
            throw ConfigException.bad(
                    "guard.nan_skip_limit",
                    g.nanSkipLimit,
                    "a fraction of an epoch's steps in [0, 1), e.g. 0.1");
        }
        if (!(g.divergenceFactor == 0
                || (g.divergenceFactor > 1 && Double.isFinite(g.divergenceFactor)))) {
            throw ConfigException.bad(
                    "guard.divergence_factor",
                    g.divergenceFactor,
                    "a number > 1 (e.g. 100), or 0 to turn the check off");
        }
        atLeast("guard.reference_steps", g.referenceSteps, 1);
        if (!(g.maxLoss >= 0 && Double.isFinite(g.maxLoss))) {
            throw ConfigException.bad(
                    "guard.max_loss",
                    g.maxLoss,
                    "a number > 0 (e.g. 1e6), or 0 to turn the check off");
        }
        section("data", cfg.data);
        section("model", cfg.model);
        section("optim", cfg.optim);
        section("loss", cfg.loss);
        section("distill", cfg.distill);
        section("output", cfg.output);

        RunConfig.Data d = cfg.data;
        name("data.name", d.name, catalog.dataSetNames());
        atLeast("data.batch_size", d.batchSize, 1);
        atLeast("data.test_batch_size", d.testBatchSize, 1);
        atLeast("data.subset_per_class", d.subsetPerClass, 0);
        atLeast("data.test_subset_per_class", d.testSubsetPerClass, 0);
        try {
            TestSplit.parse(d.testSplit == null ? "" : d.testSplit);
        } catch (IllegalArgumentException e) {
            throw ConfigException.bad("data.test_split", d.testSplit, TestSplit.ALLOWED);
        }
        if (DataSets.names().contains(d.name)) {
            try {
                DataOptions.ofConfig(d.name, d.options);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
        }
        if ("image-folder".equals(d.name) && (d.root == null || d.root.isBlank())) {
            throw ConfigException.bad(
                    "data.root",
                    d.root,
                    "the image folder (train/ and test/ holding one sub-folder per class) for"
                            + " data.name: image-folder");
        }
        if ("synthetic".equals(d.name)) {
            section("data.synthetic", d.synthetic);
            atLeast("data.synthetic.train_size", d.synthetic.trainSize, 1);
            atLeast("data.synthetic.test_size", d.synthetic.testSize, 1);
            atLeast("data.synthetic.classes", d.synthetic.classes, 2);
            atLeast("data.synthetic.channels", d.synthetic.channels, 1);
            atLeast("data.synthetic.size", d.synthetic.size, 4);
        }

        name("model.name", cfg.model.name, catalog.modelNames());
        if (cfg.model.numClasses != null) {
            atLeast("model.num_classes", cfg.model.numClasses, 2);
        }
        if ("distill".equals(cfg.kind)) {
            if (cfg.teacher == null) {
                throw ConfigException.bad(
                        "teacher", null, "a section {name, checkpoint} for kind: distill");
            }
            name("teacher.name", cfg.teacher.name, catalog.modelNames());
            if (cfg.teacher.checkpoint == null || cfg.teacher.checkpoint.isBlank()) {
                throw ConfigException.bad(
                        "teacher.checkpoint",
                        cfg.teacher.checkpoint,
                        "the model.params file of a trained teacher run");
            }
            if (cfg.teacher.numClasses != null
                    && cfg.model.numClasses != null
                    && !cfg.teacher.numClasses.equals(cfg.model.numClasses)) {
                throw ConfigException.bad(
                        "teacher.num_classes",
                        cfg.teacher.numClasses,
                        "the student's class count model.num_classes = " + cfg.model.numClasses);
            }
        } else if (cfg.teacher != null) {
            throw ConfigException.bad(
                    "teacher", "a section", "no teacher for kind: train (use kind: distill)");
        }

        RunConfig.Optim o = cfg.optim;
        if (o.lr != null && !(o.lr > 0 && Double.isFinite(o.lr))) {
            throw ConfigException.bad(
                    "optim.lr", o.lr, "a number > 0, or null for the recipe default");
        }
        if (!(o.momentum >= 0 && o.momentum < 1)) {
            throw ConfigException.bad("optim.momentum", o.momentum, "a number in [0, 1)");
        }
        if (!(o.weightDecay >= 0 && Double.isFinite(o.weightDecay))) {
            throw ConfigException.bad("optim.weight_decay", o.weightDecay, "a number >= 0");
        }
        atLeast("optim.epochs", o.epochs, 1);
        if (!(o.gamma > 0 && o.gamma <= 1)) {
            throw ConfigException.bad("optim.gamma", o.gamma, "a number in (0, 1]");
        }
        if (o.milestones == null) {
            throw ConfigException.bad("optim.milestones", null, "a list of epochs, may be []");
        }
        int prev = 0;
        for (Integer m : o.milestones) {
            if (m == null || m <= prev) {
                throw ConfigException.bad(
                        "optim.milestones",
                        o.milestones,
                        "strictly increasing epochs >= 1, e.g. [150, 180, 210]");
            }
            prev = m;
        }
        if (!(cfg.loss.ceWeight >= 0 && Double.isFinite(cfg.loss.ceWeight))) {
            throw ConfigException.bad("loss.ce_weight", cfg.loss.ceWeight, "a number >= 0");
        }

        Set<String> methods = Distillers.registry().keySet();
        name("distill.method", cfg.distill.method, methods);
        if ("train".equals(cfg.kind) && !"vanilla".equals(cfg.distill.method)) {
            throw ConfigException.bad(
                    "distill.method",
                    cfg.distill.method,
                    "vanilla for kind: train (a method needs kind: distill and a teacher)");
        }
        if (cfg.output.dir == null || cfg.output.dir.isBlank()) {
            throw ConfigException.bad("output.dir", cfg.output.dir, "a folder for the run");
        }
        atLeast("output.log_interval", cfg.output.logInterval, 1);
        if (!(cfg.output.progressSeconds >= 0)) {
            throw ConfigException.bad(
                    "output.progress_seconds", cfg.output.progressSeconds, "a number >= 0");
        }
        String log = cfg.output.logFile;
        if (log != null && (log.isBlank() || log.contains("/") || log.contains("\\"))) {
            throw ConfigException.bad(
                    "output.log_file", log, "a file name inside the run folder, e.g. train.log");
        }
        // the method checks its own options (names, types, weights >= 0), once, in its factory
        try {
            return Distillers.create(
                    cfg.distill.method,
                    new DistillerOptions("distill.options", cfg.distill.options));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /**
     * Checks that the files a run reads exist: the teacher checkpoint and the data folder.
     *
     * @param cfg a validated config
     * @throws ConfigException naming the missing file
     */
    public static void checkFiles(RunConfig cfg) {
        if ("distill".equals(cfg.kind)) {
            Path p = Path.of(cfg.teacher.checkpoint);
            if (!Files.isRegularFile(p) && !isModelFolder(p)) {
                throw ConfigException.bad(
                        "teacher.checkpoint",
                        cfg.teacher.checkpoint,
                        "an existing model.params file or model folder (train the teacher first;"
                                + " relative paths"
                                + " are resolved against "
                                + Path.of("").toAbsolutePath()
                                + ")");
            }
        }
        if (cfg.data.root != null && !Files.isDirectory(Path.of(cfg.data.root))) {
            throw ConfigException.bad(
                    "data.root",
                    cfg.data.root,
                    "an existing folder with the data set files, or null");
        }
    }

    private static boolean isModelFolder(Path p) {
        try {
            ai.crcd.train.model.ModelFolder.resolve(p);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void section(String key, Object value) {
        if (value == null) {
            throw ConfigException.bad(key, null, "a section (omit it for the defaults)");
        }
    }

    private static void choice(String key, String value, String... allowed) {
        if (value == null || !List.of(allowed).contains(value)) {
            throw ConfigException.bad(key, value, "one of " + List.of(allowed));
        }
    }

    private static void name(String key, String value, Set<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            throw ConfigException.bad(key, value, "one of " + new TreeSet<>(allowed));
        }
    }

    private static void atLeast(String key, int value, int min) {
        if (value < min) {
            throw ConfigException.bad(key, value, "an integer >= " + min);
        }
    }
}
