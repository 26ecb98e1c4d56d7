package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.model.ModelFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code eval}: top-1/top-5, per-class accuracy and a confusion matrix of a saved model on the test
 * split of a data set, or by default on its run's own test split ({@link ModelEvaluation}).
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description =
                "Evaluate a model folder (RUN/model, RUN/best or a run folder) on a test split:"
                        + " top-1/top-5, per_class.csv, confusion.csv/.png, eval.json.")
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model folder or run folder.")
    Path model;

    @Option(
            names = "--data",
            description =
                    "Data set name (fashion-mnist, cifar100, ...) or a folder of class sub-folders"
                            + " (its test/ when present). Default: the run's own test split, from"
                            + " --config or the run folder's config.yaml.")
    String data;

    @Option(
            names = {"-c", "--config"},
            description =
                    "A run config whose data section (test split, subset, batch size) is"
                            + " evaluated; default RUN/config.yaml beside the model folder.")
    Path config;

    @Option(
            names = {"-s", "--set"},
            description = "Override one key of that config, e.g. --set data.root=DIR (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(
            names = "--data-root",
            description = "Folder of a named data set's files (default: its usual place).")
    Path dataRoot;

    @Option(
            names = "--per-class",
            defaultValue = "0",
            description =
                    "Only the first N test images of each class (a run's"
                            + " data.test_subset_per_class); 0 = all (default).")
    int perClass;

    @Option(
            names = "--batch-size",
            defaultValue = "256",
            description = "Evaluation batch size (default 256).")
    int batchSize;

    @Option(
            names = "--out",
            description = "Report folder (default: eval-<data> beside the model folder).")
    Path out;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu or auto (default).")
    String device;

    @Override
    public Integer call() throws Exception {
        Path folder;
        try {
            folder = ModelFolder.resolve(model).toAbsolutePath().normalize();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--model: " + e.getMessage());
        }
        RunConfig cfg = data != null ? null : runConfig(folder);
        Path dir = out;
        if (dir == null) {
            String tag = data != null ? Path.of(data).getFileName().toString() : cfg.data.name;
            dir = folder.getParent().resolve("eval-" + tag);
        }
        ModelEvaluation.Result r =
                cfg != null
                        ? ModelEvaluation.run(model, cfg, dir, Devices.select(device))
                        : ModelEvaluation.run(
                                model,
                                data,
                                dataRoot,
                                perClass,
                                batchSize,
                                dir,
                                Devices.select(device));
        System.out.printf(
                Locale.ROOT,
                "eval %s on %s (%d images): top-1 %.2f%%, top-5 %.2f%%; report in %s%n",
                model,
                r.data(),
                r.images(),
                r.top1(),
                r.top5(),
                dir);
        return 0;
    }

    private RunConfig runConfig(Path folder) {
        Path file = config != null ? config : folder.getParent().resolve(TrainingRun.CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(
                    "--data: missing; give a data set name or folder, or --config RUN/config.yaml"
                            + " (no "
                            + file
                            + ")");
        }
        return ConfigLoader.load(file, overrides);
    }
}
