package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.BatchLoader;
import ai.crcd.train.data.DataSetException;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.data.IndexedBatch;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.run.AtomicFiles;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

/**
 * Evaluates a saved model folder on the test split of a data set, with the training loop's own
 * top-1/top-5 code ({@link TrainingRun#evaluate}) and the model's stored normalisation, and writes
 * a person-readable report: {@code eval.json} (top-1, top-5, images), {@code per_class.csv}
 * (accuracy per class), {@code confusion.csv} and {@code confusion.png} (rows: true class, columns:
 * predicted class = arg max of the logits; ties go to the lower class index).
 */
public final class ModelEvaluation {

    /** Report file with top-1 / top-5. */
    public static final String JSON = "eval.json";

    /** Per-class accuracy. */
    public static final String PER_CLASS = "per_class.csv";

    /** Confusion counts as CSV. */
    public static final String CONFUSION_CSV = "confusion.csv";

    /** Confusion matrix plot. */
    public static final String CONFUSION_PNG = "confusion.png";

    private ModelEvaluation() {}

    /**
     * The outcome of an evaluation.
     *
     * @param top1 top-1 accuracy (%), exactly as the training loop computes it
     * @param top5 top-5 accuracy (%)
     * @param images the number of test images
     * @param confusion counts, [true class][predicted class]
     * @param data the evaluated set's name, e.g. {@code fashion-mnist/test}
     */
    public record Result(double top1, double top5, int images, long[][] confusion, String data) {}

    /**
     * Evaluates a model folder and writes the report.
     *
     * @param modelDir a model folder or run folder
     * @param data a data set name ({@code fashion-mnist}, {@code cifar100}, ...) or a folder of
     *     class sub-folders (its {@code test/} when present)
     * @param dataRoot the folder of a named data set's files, or null for its default
     * @param perClass test images per class (the run's {@code data.test_subset_per_class}), or 0
     *     for all
     * @param batchSize the evaluation batch size
     * @param outDir where the report goes
     * @param device where to run
     * @return the result
     * @throws IOException if reading or writing fails
     * @throws ConfigException one line naming the bad argument
     */
    public static Result run(
            Path modelDir,
            String data,
            Path dataRoot,
            int perClass,
            int batchSize,
            Path outDir,
            Device device)
            throws IOException {
        ModelInfo info = info(modelDir);
        ImageSet set = open(data, dataRoot, perClass, info);
        return evaluate(
                modelDir,
                root ->
                        ImageLoader.builder()
                                .setData(set.withNormalization(info.mean(), info.std()))
                                .setBatchSize(batchSize)
                                .setManager(root)
                                .optShuffle(false)
                                .optAugment(false)
                                .build(),
                set.name(),
                outDir,
                device);
    }

    /**
     * Evaluates a model folder on the test split of a run config's data section, opened exactly as
     * the run opened it (test split, subset, statistics, batch size): the result equals the run's
     * test top-1 at the folder's epoch.
     *
     * @param modelDir a model folder or run folder
     * @param cfg the run's config (e.g. {@code RUN/config.yaml})
     * @param outDir where the report goes
     * @param device where to run
     * @return the result
     * @throws IOException if reading or writing fails
     * @throws ConfigException one line naming the bad argument
     */
    public static Result run(Path modelDir, RunConfig cfg, Path outDir, Device device)
            throws IOException {
        ModelInfo info = info(modelDir);
        String name = cfg.data.name + "/test";
        return evaluate(
                modelDir,
                root -> {
                    Catalog.Splits splits = Catalog.standard().openSplits(cfg.data, cfg.seed, root);
                    splits.train().loader().close();
                    Catalog.Split test = splits.test();
                    if (test.numClasses() != info.numClasses()
                            || test.channels() != info.inChannels()) {
                        test.loader().close();
                        throw new ConfigException(
                                "--config: data "
                                        + cfg.data.name
                                        + " has "
                                        + test.numClasses()
                                        + " classes of "
                                        + test.channels()
                                        + "-channel images; the"
                                        + " model "
                                        + info
                                        + " differs");
                    }
                    return test.loader();
                },
                name,
                outDir,
                device);
    }

    private static ModelInfo info(Path modelDir) throws IOException {
        try {
            return ModelFolder.readInfo(ModelFolder.resolve(modelDir));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--model: " + e.getMessage());
        }
    }

    private static Result evaluate(
            Path modelDir,
            Function<NDManager, BatchLoader> open,
            String dataName,
            Path outDir,
            Device device)
            throws IOException {
        Path dir = ModelFolder.resolve(modelDir);
        ModelInfo info = info(dir);
        try (Model model = load(dir, device);
                NDManager root = NDManager.newBaseManager(device);
                BatchLoader loader = open.apply(root)) {
            ParameterStore ps = new ParameterStore(root, false);
            Block net = model.getBlock();
            double[] acc = TrainingRun.evaluate(net, ps, loader, info.numClasses(), root);
            long[][] confusion = confusion(net, ps, loader, info.numClasses());
            Result r = new Result(acc[0], acc[1], loader.size(), confusion, dataName);
            write(outDir, dir, info, r);
            return r;
        }
    }

    private static Model load(Path dir, Device device) throws IOException {
        try {
            return ModelFolder.load(dir, device);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--model: " + e.getMessage());
        }
    }

    private static ImageSet open(String data, Path dataRoot, int perClass, ModelInfo info) {
        Map<String, Object> opts = new LinkedHashMap<>();
        if (perClass > 0) {
            opts.put("perClass", perClass);
        }
        ImageSet set;
        try {
            Path folder = Path.of(data);
            if (!DataSets.names().contains(data) && Files.isDirectory(folder)) {
                opts.put("channels", info.inChannels());
                opts.put("size", info.height() + "x" + info.width());
                // train/ + test/: the test split (class list from train/); else the folder's own
                // class sub-folders, all of them evaluated
                boolean split = Files.isDirectory(folder.resolve("test"));
                set = DataSets.open("image-folder", folder, !split, opts);
                checkClassNames(set, info, folder);
            } else {
                set = DataSets.open(data, dataRoot, false, opts);
            }
        } catch (DataSetException | IllegalArgumentException e) {
            throw new ConfigException(
                    "--data: cannot open '"
                            + data
                            + "' ("
                            + e.getMessage().replace('\n', ' ')
                            + "); give a data set name "
                            + DataSets.names()
                            + " or a folder of class sub-folders");
        }
        if (set.channels() != info.inChannels()
                || set.height() != info.height()
                || set.width() != info.width()
                || set.numClasses() != info.numClasses()) {
            throw new ConfigException(
                    String.format(
                            Locale.ROOT,
                            "--data: %s has %d classes of %dx%dx%d images; the model %s expects %d"
                                    + " classes of %dx%dx%d",
                            set.name(),
                            set.numClasses(),
                            set.channels(),
                            set.height(),
                            set.width(),
                            info.architecture(),
                            info.numClasses(),
                            info.inChannels(),
                            info.height(),
                            info.width()));
        }
        return set;
    }

    /** An image folder's classes must be the model's, by name and in order. */
    private static void checkClassNames(ImageSet set, ModelInfo info, Path folder) {
        if (!set.classNames().isEmpty() && !set.classNames().equals(info.classNames())) {
            throw new ConfigException(
                    "--data: "
                            + folder
                            + " has classes "
                            + set.classNames()
                            + "; the model was"
                            + " trained on "
                            + info.classNames()
                            + " (same names, same order)");
        }
    }

    /** Confusion counts from the arg max of the logits: [true][predicted]. */
    private static long[][] confusion(
            Block net, ParameterStore ps, BatchLoader loader, int classes) {
        long[][] c = new long[classes][classes];
        Iterator<IndexedBatch> it = loader.epoch(0);
        while (it.hasNext()) {
            try (IndexedBatch b = it.next()) {
                long[] pred =
                        net.forward(ps, new NDList(b.images()), false)
                                .get(0)
                                .argMax(1)
                                .toLongArray();
                long[] truth = b.labels().toLongArray();
                for (int i = 0; i < pred.length; i++) {
                    c[(int) truth[i]][(int) pred[i]]++;
                }
            }
        }
        return c;
    }

    private static void write(Path out, Path modelDir, ModelInfo info, Result r)
            throws IOException {
        Files.createDirectories(out);
        List<String> names = info.classNames();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", modelDir.toAbsolutePath().toString());
        json.put("architecture", info.architecture());
        json.put("data", r.data());
        json.put("images", r.images());
        json.put("test_top1", r.top1());
        json.put("test_top5", r.top5());
        AtomicFiles.write(
                out.resolve(JSON),
                new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json)
                        + "\n");
        StringBuilder csv = new StringBuilder("class,name,images,correct,accuracy\n");
        StringBuilder cm = new StringBuilder("true\\predicted");
        for (String n : names) {
            cm.append(',').append(csvCell(n));
        }
        cm.append('\n');
        for (int k = 0; k < names.size(); k++) {
            long total = 0;
            for (long v : r.confusion()[k]) {
                total += v;
            }
            long hit = r.confusion()[k][k];
            csv.append(k).append(',').append(csvCell(names.get(k))).append(',').append(total);
            csv.append(',').append(hit).append(',');
            csv.append(total == 0 ? "" : Double.toString(100.0 * hit / total)).append('\n');
            cm.append(csvCell(names.get(k)));
            for (long v : r.confusion()[k]) {
                cm.append(',').append(v);
            }
            cm.append('\n');
        }
        AtomicFiles.write(out.resolve(PER_CLASS), csv.toString());
        AtomicFiles.write(out.resolve(CONFUSION_CSV), cm.toString());
        AtomicFiles.write(out.resolve(CONFUSION_PNG), confusionPng(r, names, info));
    }

    private static byte[] confusionPng(Result r, List<String> names, ModelInfo info)
            throws IOException {
        int c = names.size();
        int side = Math.max(480, Math.min(1600, 40 * c + 200));
        HeatMapChart chart =
                new HeatMapChartBuilder()
                        .width(side)
                        .height(side)
                        .title(
                                String.format(
                                        Locale.ROOT,
                                        "%s on %s: top-1 %.2f%%",
                                        info.architecture(),
                                        r.data(),
                                        r.top1()))
                        .xAxisTitle("predicted")
                        .yAxisTitle("true")
                        .build();
        chart.getStyler().setShowValue(c <= 20);
        chart.getStyler().setLegendVisible(false);
        List<String> axis = new ArrayList<>(names);
        List<String> yAxis = new ArrayList<>(names);
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < c; t++) {
            for (int p = 0; p < c; p++) {
                // y counts from the bottom: the first class on top
                cells.add(new Number[] {p, c - 1 - t, r.confusion()[t][p]});
            }
        }
        java.util.Collections.reverse(yAxis);
        chart.addSeries("confusion", axis, yAxis, cells);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", png);
        return png.toByteArray();
    }

    private static String csvCell(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
