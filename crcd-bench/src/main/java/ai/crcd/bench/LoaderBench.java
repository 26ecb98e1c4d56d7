package ai.crcd.bench;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.models.CifarNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.data.Augmentation;
import ai.crcd.train.data.CifarFormat;
import ai.crcd.train.data.DataSetException;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.data.IndexedBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Loader throughput benchmark: images/s of {@link ImageLoader} with the standard training
 * augmentation on (random crop + flip + normalisation), shuffling, batch 64, for CIFAR-100 (a
 * generated 50,000-record file in the official binary format when the real one is absent) and
 * Fashion-MNIST (the installed IDX files, else a generated set of the same shape). Each batch is
 * taken as the trainer takes it: NDArrays on the default device, then closed.
 *
 * <p>In the same run it measures crcd's training step for KD resnet56 -> resnet20 (teacher
 * inference, student forward + backward + SGD on 0.1 CE + 0.9 KD) on one random batch and prints
 * the ratio loader images/s (CIFAR-100 shape) / step images/s; the target is at least 5x.
 *
 * <p>Usage: {@code LoaderBench [csv]} (default {@code target/bench/loader.csv}); system properties
 * {@code bench.seconds} (per measurement, default 10) and {@code bench.threads} (loader threads,
 * default the loader's default).
 */
public final class LoaderBench {

    private static final int BATCH = 64;

    private LoaderBench() {}

    /**
     * Runs the benchmark.
     *
     * @param args optional CSV output path
     * @throws IOException when the CSV or the generated data cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path csv = Paths.get(args.length > 0 ? args[0] : "target/bench/loader.csv");
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "10"));
        Integer threads = Integer.getInteger("bench.threads");
        List<String> rows = new ArrayList<>();
        rows.add("what,data,source,batch,threads,device,images,seconds,images_per_s");
        double cifarLoader = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            String device = manager.getDevice().toString();
            ImageSet[] sets = {cifar100(csv.toAbsolutePath().getParent()), fashionMnist()};
            for (ImageSet set : sets) {
                ImageLoader.Builder b =
                        ImageLoader.builder()
                                .setData(set)
                                .setBatchSize(BATCH)
                                .setManager(manager)
                                .optAugment(Augmentation.standard(set))
                                .optSeed(1);
                if (threads != null) {
                    b.optThreads(threads);
                }
                try (ImageLoader loader = b.build()) {
                    double[] r = measure(loader, seconds);
                    String source = set.name().startsWith("generated") ? "generated" : "file";
                    int t =
                            threads != null
                                    ? threads
                                    : Math.min(4, Runtime.getRuntime().availableProcessors());
                    System.out.printf(
                            Locale.ROOT,
                            "loader %-22s %s: %,.0f images/s (%d threads, batch %d, %s)%n",
                            set.name(),
                            loader.augmentation(),
                            r[0] / r[1],
                            t,
                            BATCH,
                            device);
                    rows.add(
                            String.format(
                                    Locale.ROOT,
                                    "loader,%s,%s,%d,%d,%s,%.0f,%.3f,%.1f",
                                    set.name(),
                                    source,
                                    BATCH,
                                    t,
                                    device,
                                    r[0],
                                    r[1],
                                    r[0] / r[1]));
                    if (set.channels() == 3) {
                        cifarLoader = r[0] / r[1];
                    }
                }
            }
            double[] k = kdStep(manager, seconds);
            double kdRate = k[0] / k[1];
            System.out.printf(
                    Locale.ROOT,
                    "KD step resnet56->resnet20 (CE+KD, SGD), batch %d: %,.1f images/s (%s)%n",
                    BATCH,
                    kdRate,
                    device);
            rows.add(
                    String.format(
                            Locale.ROOT,
                            "kd_step,resnet56->resnet20,random,%d,-,%s,%.0f,%.3f,%.1f",
                            BATCH,
                            device,
                            k[0],
                            k[1],
                            kdRate));
            double ratio = cifarLoader / kdRate;
            System.out.printf(
                    Locale.ROOT,
                    "ratio loader(CIFAR-100 shape)/KD step: %.1fx (target >= 5x): %s%n",
                    ratio,
                    ratio >= 5 ? "met" : "NOT met");
            rows.add(
                    String.format(
                            Locale.ROOT,
                            "ratio,loader/kd_step,-,%d,-,%s,-,-,%.2f",
                            BATCH,
                            device,
                            ratio));
        }
        Files.createDirectories(csv.toAbsolutePath().getParent());
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
            rows.forEach(w::println);
        }
        System.out.println("wrote " + csv);
    }

    /**
     * Measures crcd's one training step ({@link StepRig}, the step crcd-train runs) for KD resnet56
     * -> resnet20 on one fixed random batch: teacher forward in inference mode, student forward +
     * backward + SGD on 0.1 CE + 0.9 KD (T = 4).
     *
     * @return {images, seconds}
     */
    static double[] kdStep(NDManager manager, double seconds) {
        return kdStep(manager, seconds, "resnet56", "resnet20", BATCH, 32, 100);
    }

    /**
     * Measures crcd's training step for KD (as {@link #kdStep(NDManager, double)}) for any pair,
     * batch, square input size and class count.
     *
     * @return {images, seconds}
     */
    static double[] kdStep(
            NDManager manager,
            double seconds,
            String teacherName,
            String studentName,
            int batch,
            int size,
            int classes) {
        Shape in = new Shape(1, 3, size, size);
        MethodSpec kd =
                StepBench.DEFAULT_METHODS.stream()
                        .filter(m -> m.label().equals("KD"))
                        .findFirst()
                        .orElseThrow();
        CifarNetwork teacher = Models.create(teacherName, classes, 3);
        teacher.initialize(manager, DataType.FLOAT32, in);
        int[] labels = new int[batch];
        try (NDManager data = manager.newSubManager();
                StepRig rig =
                        new StepRig(
                                manager,
                                teacher,
                                Models.create(studentName, classes, 3),
                                kd,
                                in,
                                labels,
                                1,
                                0.05)) {
            NDArray x = data.randomNormal(new Shape(batch, 3, size, size)); // (B, 3, H, W)
            NDArray y = data.randomInteger(0, classes, new Shape(batch), DataType.INT64); // (B)
            NDArray idx = data.arange(0, batch).toType(DataType.INT64, false); // (B)
            for (int i = 0; i < 2; i++) {
                step(rig, x, y, idx);
            }
            long start = System.nanoTime();
            long steps = 0;
            do {
                step(rig, x, y, idx);
                steps++;
            } while (System.nanoTime() - start < seconds * 1e9 || steps < 3);
            return new double[] {steps * batch, (System.nanoTime() - start) / 1e9};
        }
    }

    private static void step(StepRig rig, NDArray x, NDArray y, NDArray idx) {
        try (NDManager step = x.getManager().newSubManager()) {
            NDArray xs = x.duplicate();
            xs.attach(step);
            NDArray ys = y.duplicate();
            ys.attach(step);
            NDArray is = idx.duplicate();
            is.attach(step);
            rig.step(xs, ys, is);
        }
    }

    /** Iterates epochs for about {@code seconds} after a warm-up; returns {images, seconds}. */
    private static double[] measure(ImageLoader loader, double seconds) {
        drain(loader.epoch(0), 20);
        long images = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int epoch = 1;
        while (System.nanoTime() < end) {
            Iterator<IndexedBatch> it = loader.epoch(epoch++);
            while (it.hasNext() && System.nanoTime() < end) {
                try (IndexedBatch b = it.next()) {
                    images += b.size();
                }
            }
        }
        return new double[] {images, (System.nanoTime() - start) / 1e9};
    }

    private static void drain(Iterator<IndexedBatch> it, int batches) {
        for (int i = 0; i < batches && it.hasNext(); i++) {
            it.next().close();
        }
    }

    /** The real CIFAR-100 training set when present, else a generated file in its format. */
    static ImageSet cifar100(Path workDir) throws IOException {
        try {
            return DataSets.open("cifar100", null, true, Map.of("download", false));
        } catch (DataSetException e) {
            Path root = workDir.resolve("generated-cifar100");
            Path file = root.resolve("cifar-100-binary").resolve("train.bin");
            int n = 50_000;
            int rec = CifarFormat.CIFAR100.recordBytes();
            if (!Files.isRegularFile(file) || Files.size(file) != (long) n * rec) {
                Files.createDirectories(file.getParent());
                SplittableRandom rnd = new SplittableRandom(7);
                byte[] record = new byte[rec];
                try (OutputStream out = Files.newOutputStream(file)) {
                    for (int i = 0; i < n; i++) {
                        record[0] = (byte) (i % 20);
                        record[1] = (byte) (i % 100);
                        for (int j = 2; j < rec; j++) {
                            record[j] = (byte) rnd.nextInt(256);
                        }
                        out.write(record);
                    }
                }
                Files.write(root.resolve("cifar-100-binary").resolve("test.bin"), new byte[rec]);
            }
            ImageSet set = DataSets.open("cifar100", root, true, Map.of("download", false));
            return rename(set, "generated-cifar100");
        }
    }

    /** The installed Fashion-MNIST training set, else a generated one of the same shape. */
    static ImageSet fashionMnist() {
        try {
            return DataSets.open("fashion-mnist", null, true, null);
        } catch (DataSetException e) {
            ImageSet s = DataSets.synthetic(60_000, 10, 1, 28, 28, 7);
            return rename(s, "generated-fashion-mnist");
        }
    }

    private static ImageSet rename(ImageSet s, String name) {
        return ImageSet.builder()
                .setName(name)
                .setShape(s.channels(), s.height(), s.width())
                .setNumClasses(s.numClasses())
                .setData(s.pixels(), s.labels())
                .optNormalization(s.mean(), s.std())
                .build();
    }
}
