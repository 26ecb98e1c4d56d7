package ai.crcd.train.examples;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.training.Distillation;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.Model;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Example: distil a Fashion-MNIST student from a teacher trained by crcd, in plain DJL code ({@code
 * Model}, {@code DefaultTrainingConfig}, {@code EasyTrain.fit}, DJL's listeners and {@code
 * Accuracy} evaluator). crcd contributes the networks, the method and {@link Distillation}: the
 * block, loss and after-step listener.
 *
 * <pre>
 * java -cp crcd-train/target/crcd-train-0.1.0-SNAPSHOT-all.jar ai.crcd.train.examples.DistillFashionMnist \
 *     TEACHER_RUN_DIR OUT_DIR [method=crcd] [student=resnet8] [epochs=2] [per_class=0]
 *     [max_batches=0] [option.KEY=VALUE ...]
 * </pre>
 *
 * <p>{@code TEACHER_RUN_DIR} is a crcd run folder of a Fashion-MNIST teacher (its {@code
 * config.yaml} names the architecture, {@code model.params} holds the weights), e.g. from {@code
 * crcd train configs/fashion-mnist/teachers/resnet20.yaml}.
 */
public final class DistillFashionMnist {

    private static final int BATCH = 64;

    private DistillFashionMnist() {}

    /**
     * Runs the example.
     *
     * @param args teacher run folder, output folder, then optional key=value settings
     * @throws IOException if a file cannot be read or written
     * @throws TranslateException if DJL cannot batch the data
     */
    public static void main(String[] args) throws IOException, TranslateException {
        if (args.length < 2) {
            System.err.println(
                    "usage: DistillFashionMnist TEACHER_RUN_DIR OUT_DIR [method=crcd]"
                            + " [student=resnet8] [epochs=2] [per_class=0] [max_batches=0]");
            System.exit(2);
        }
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            opts.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        TrainingResult r = run(Path.of(args[0]), Path.of(args[1]), opts);
        System.out.println(r);
    }

    /**
     * Distils a student with {@code EasyTrain.fit}.
     *
     * @param teacherRun a crcd run folder of a Fashion-MNIST teacher
     * @param out folder for DJL's logs and saved student
     * @param opts method, student, epochs, per_class, max_batches (0: all), option.KEY (the
     *     method's options)
     * @return DJL's training result
     * @throws IOException if a file cannot be read or written
     * @throws TranslateException if DJL cannot batch the data
     */
    public static TrainingResult run(Path teacherRun, Path out, Map<String, String> opts)
            throws IOException, TranslateException {
        String method = opts.getOrDefault("method", "crcd");
        String studentName = opts.getOrDefault("student", "resnet8");
        int epochs = Integer.parseInt(opts.getOrDefault("epochs", "2"));
        int perClass = Integer.parseInt(opts.getOrDefault("per_class", "0"));
        int maxBatches = Integer.parseInt(opts.getOrDefault("max_batches", "0"));
        RunConfig teacherCfg =
                ConfigLoader.bind(
                        Files.readString(teacherRun.resolve("config.yaml")), List.of(), "teacher");
        Map<String, Object> dataOpts = perClass > 0 ? Map.of("perClass", perClass) : null;
        ImageSet trainSet = DataSets.open("fashion-mnist", null, true, dataOpts);
        ImageSet testSet = DataSets.open("fashion-mnist", null, false, dataOpts);
        Shape in = new Shape(1, 1, 28, 28);
        Files.createDirectories(out);
        try (Model model = Model.newInstance("student")) {
            NDManager manager = model.getNDManager();
            // the teacher, trained by crcd
            DistillableNetwork teacher = Models.create(teacherCfg.model.name, 10, 1);
            teacher.initialize(manager, DataType.FLOAT32, in);
            ParameterFiles.read(teacher, teacherRun.resolve("model.params"), manager);
            DistillableNetwork student = Models.create(studentName, 10, 1);
            student.initialize(manager, DataType.FLOAT32, in);
            Distiller distiller =
                    Distillers.create(method, new DistillerOptions("option", methodOptions(opts)));
            distiller.initialize(
                    manager,
                    DistillSetup.builder()
                            .setFeatureDims(teacher.featureDim(), student.featureDim())
                            .setNumClasses(10)
                            .optDatasetLabels(trainSet.labels())
                            .optOutputShapes(
                                    List.of(teacher.getOutputShapes(new Shape[] {in})),
                                    List.of(student.getOutputShapes(new Shape[] {in})))
                            .build());
            Distillation distillation =
                    Distillation.builder()
                            .setTeacher(teacher)
                            .setStudent(student)
                            .setDistiller(distiller)
                            .setManager(manager)
                            .build();
            model.setBlock(distillation.block());

            // plain DJL from here on
            SaveModelTrainingListener save = new SaveModelTrainingListener(out.toString());
            DefaultTrainingConfig config =
                    distillation
                            .newTrainingConfig()
                            .optOptimizer(
                                    Optimizer.sgd()
                                            .setLearningRateTracker(Tracker.fixed(0.05f))
                                            .optMomentum(0.9f)
                                            .optWeightDecays(5e-4f)
                                            .build())
                            .addEvaluator(new Accuracy())
                            .addTrainingListeners(TrainingListener.Defaults.logging(out.toString()))
                            .addTrainingListeners(save);
            long limit = maxBatches > 0 ? (long) maxBatches * BATCH : Long.MAX_VALUE;
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.setMetrics(new Metrics());
                trainer.initialize(in);
                EasyTrain.fit(
                        trainer,
                        epochs,
                        dataset(trainSet, manager, true, limit),
                        dataset(testSet, manager, false, limit));
                return trainer.getTrainingResult();
            } finally {
                distiller.close();
            }
        }
    }

    /** The settings {@code option.KEY=VALUE} as the method's options (numbers parsed). */
    private static Map<String, Object> methodOptions(Map<String, String> opts) {
        Map<String, Object> m = new LinkedHashMap<>();
        opts.forEach(
                (k, v) -> {
                    if (k.startsWith("option.")) {
                        m.put(k.substring("option.".length()), parse(v));
                    }
                });
        return m;
    }

    private static Object parse(String v) {
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e2) {
                return v;
            }
        }
    }

    /**
     * A DJL {@link ArrayDataset} of normalised images with labels {@code [label, sample index]}
     * (the indices are what CRD's memory bank needs).
     *
     * @param set the images
     * @param manager owns the arrays
     * @param shuffle whether to shuffle (training)
     * @param limit at most this many samples
     * @return the data set
     */
    public static ArrayDataset dataset(
            ImageSet set, NDManager manager, boolean shuffle, long limit) {
        int n = set.size();
        int c = set.channels();
        int h = set.height();
        int w = set.width();
        float[] x = new float[n * c * h * w];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int yy = 0; yy < h; yy++) {
                    for (int xx = 0; xx < w; xx++) {
                        float p = set.pixel(i, ch, yy, xx) / 255f;
                        x[k++] = (p - set.mean()[ch]) / set.std()[ch];
                    }
                }
            }
        }
        long[] labels = new long[n];
        long[] indices = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = set.label(i);
            indices[i] = i;
        }
        NDArray images = manager.create(x, new Shape(n, c, h, w)); // (N, C, H, W)
        return new ArrayDataset.Builder()
                .setData(images)
                .optLabels(manager.create(labels), manager.create(indices)) // (N), (N)
                .setSampling(BATCH, shuffle)
                .optLimit(limit)
                .build();
    }
}
