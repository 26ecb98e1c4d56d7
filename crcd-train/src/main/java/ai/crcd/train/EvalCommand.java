package ai.crcd.train;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code eval}: top-1/top-5, per-class accuracy and a confusion matrix of a saved model on the
 * test split of a data set ({@link ModelEvaluation}).
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate a model folder (RUN/model, RUN/best or a run folder) on a test split:"
                + " top-1/top-5, per_class.csv, confusion.csv/.png, eval.json.")
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model folder or run folder.")
    Path model;

    @Option(
            names = "--data",
            required = true,
            description = "Data set name (fashion-mnist, cifar100, ...) or a folder of class"
                    + " sub-folders (its test/ when present).")
    String data;

    @Option(names = "--data-root", description = "Folder of a named data set's files (default: its usual place).")
    Path dataRoot;

    @Option(
            names = "--per-class",
            defaultValue = "0",
            description = "Only the first N test images of each class (a run's"
                    + " data.test_subset_per_class); 0 = all (default).")
    int perClass;

    @Option(names = "--batch-size", defaultValue = "256", description = "Evaluation batch size (default 256).")
    int batchSize;

    @Option(names = "--out", description = "Report folder (default: eval-<data> beside the model folder).")
    Path out;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu or auto (default).")
    String device;

    @Override
    public Integer call() throws Exception {
        Path dir = out;
        if (dir == null) {
            Path abs = model.toAbsolutePath().normalize();
            String tag = Path.of(data).getFileName().toString();
            dir = (abs.getParent() == null ? abs : abs.getParent()).resolve("eval-" + tag);
        }
        ModelEvaluation.Result r =
                ModelEvaluation.run(
                        model, data, dataRoot, perClass, batchSize, dir, Devices.select(device));
        System.out.printf(
                Locale.ROOT,
                "eval %s on %s (%d images): top-1 %.2f%%, top-5 %.2f%%; report in %s%n",
                model, r.data(), r.images(), r.top1(), r.top5(), dir);
        return 0;
    }
}
