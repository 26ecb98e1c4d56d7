package ai.crcd.bench;

import ai.crcd.bench.io.Csv;
import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.bench.suite.Stats;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.data.IndexedBatch;
import ai.crcd.train.run.AtomicFiles;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Step-time and memory benchmark of the distillation methods for one teacher/student pair.
 *
 * <p>All methods are built in one process, warmed up, then timed in rounds: each round runs every
 * method for one step, in an order rotated from round to round, so that machine noise (other
 * processes, frequency changes) falls on all methods alike. A step is what crcd-train's loop does:
 * teacher forward (inference), student forward/backward, SGD update, afterStep; it ends with
 * reading the loss terms back, so GPU work is finished when the clock stops.
 *
 * <p>Reported per method: median, 25th and 75th percentile step time, ratio of the median to KD's,
 * the bytes of the method's state (buffers, memory banks) and auxiliary parameters, and the
 * images/s the step consumes (batch / median step time), beside the data loader's images/s on
 * CIFAR-shaped synthetic images with the standard augmentation.
 */
public final class StepBench {

    /** The methods compared by default, with the recipes of the suites. */
    public static final List<MethodSpec> DEFAULT_METHODS =
            List.of(
                    new MethodSpec("vanilla", "vanilla", 1.0, Map.of(), List.of()),
                    new MethodSpec(
                            "KD", "kd", 0.1, Map.of("alpha", 0.9, "temperature", 4), List.of()),
                    new MethodSpec(
                            "CRD+KD", "crd_kd", 1.0, Map.of("alpha", 1.0, "beta", 0.8), List.of()),
                    new MethodSpec("CRCD", "crcd", 1.0, Map.of("alpha", 1.0), List.of()),
                    new MethodSpec("FRCD", "frcd", 1.0, Map.of("alpha", 1.0), List.of()),
                    new MethodSpec("GRCD", "grcd", 1.0, Map.of("alpha", 1.0), List.of()));

    /**
     * Methods that {@code --methods} can name but that are not run by default: {@code
     * CRCD-autograd} is CRCD with {@code fast_path: false} (autograd over the whole negatives side,
     * docs/performance.md), for an in-process A/B against {@code CRCD}.
     */
    public static final List<MethodSpec> EXTRA_METHODS =
            List.of(
                    new MethodSpec(
                            "CRCD-autograd",
                            "crcd",
                            1.0,
                            Map.of("alpha", 1.0, "fast_path", false),
                            List.of()));

    /**
     * Returns every registered method ({@code Distillers.registry()}): the recipes of {@link
     * #DEFAULT_METHODS}, then each other registered method with its default options (label = its
     * name; the comparison methods alone, as RepDistiller's {@code -a 0}). The default of the
     * command and the builder, so that a method added to the registry is timed without edits.
     *
     * @return the methods
     */
    public static List<MethodSpec> everyMethod() {
        List<MethodSpec> out = new java.util.ArrayList<>(DEFAULT_METHODS);
        for (String name : ai.crcd.core.Distillers.registry().keySet()) {
            if (out.stream().noneMatch(m -> m.method().equals(name))) {
                out.add(new MethodSpec(name, name, 1.0, Map.of(), List.of()));
            }
        }
        return List.copyOf(out);
    }

    private final Builder b;

    private StepBench(Builder b) {
        this.b = b;
    }

    /**
     * Runs the benchmark from the command line; the same as {@code SuiteMain step ...}.
     *
     * @param args e.g. {@code --batch 64 --device cpu --out runs/bench/step}
     */
    public static void main(String[] args) {
        String[] a = new String[args.length + 1];
        a[0] = "step";
        System.arraycopy(args, 0, a, 1, args.length);
        System.exit(SuiteMain.commandLine().execute(a));
    }

    /**
     * Returns a new builder with the defaults: resnet56 -> resnet20, batch 64, 3x32x32 input, 100
     * classes, 50,000 training labels, CPU, 5 warm-up steps and 20 timed rounds.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * One method's measurements.
     *
     * @param label the method label
     * @param method the distiller name
     * @param medianMs median step time (ms)
     * @param p25Ms 25th percentile (ms)
     * @param p75Ms 75th percentile (ms)
     * @param steps the number of timed steps
     * @param stateBytes bytes of the distiller's state (buffers, banks)
     * @param auxParamBytes bytes of the auxiliary parameters
     * @param firstLoss the summed loss of the first step
     * @param lastLoss the summed loss of the last step
     */
    public record MethodResult(
            String label,
            String method,
            double medianMs,
            double p25Ms,
            double p75Ms,
            int steps,
            long stateBytes,
            long auxParamBytes,
            double firstLoss,
            double lastLoss) {

        /**
         * Returns the images per second the step consumes.
         *
         * @param batch the batch size
         * @return batch / median step time
         */
        public double imagesPerSecond(int batch) {
            return batch / (medianMs / 1000.0);
        }
    }

    /**
     * The benchmark's outcome.
     *
     * @param teacher the teacher
     * @param student the student
     * @param batch the batch size
     * @param input the input shape (C, H, W)
     * @param classes the class count
     * @param datasetSize the number of training labels (CRD's bank rows)
     * @param device the device
     * @param threads the engine's intra-op threads as reported by the JVM's processors
     * @param methods per-method results
     * @param loaderImagesPerSecond the data loader's rate, NaN if not measured
     */
    public record Result(
            String teacher,
            String student,
            int batch,
            Shape input,
            int classes,
            int datasetSize,
            String device,
            int threads,
            List<MethodResult> methods,
            double loaderImagesPerSecond) {

        /**
         * Returns the result of a method by label.
         *
         * @param label the label
         * @return the result, or {@code null}
         */
        public MethodResult get(String label) {
            return methods.stream().filter(m -> m.label().equals(label)).findFirst().orElse(null);
        }

        /**
         * Returns the rows as CSV.
         *
         * @return the table
         */
        public Csv toCsv() {
            Csv csv =
                    new Csv(
                            List.of(
                                    "teacher",
                                    "student",
                                    "batch",
                                    "device",
                                    "label",
                                    "method",
                                    "median_ms",
                                    "p25_ms",
                                    "p75_ms",
                                    "steps",
                                    "ratio_to_kd",
                                    "state_bytes",
                                    "aux_param_bytes",
                                    "aux_total_bytes",
                                    "step_images_per_s",
                                    "loader_images_per_s"));
            MethodResult kd = get("KD");
            for (MethodResult m : methods) {
                csv.add(
                        List.of(
                                teacher,
                                student,
                                batch,
                                device,
                                m.label(),
                                m.method(),
                                m.medianMs(),
                                m.p25Ms(),
                                m.p75Ms(),
                                m.steps(),
                                kd == null ? "" : m.medianMs() / kd.medianMs(),
                                m.stateBytes(),
                                m.auxParamBytes(),
                                m.stateBytes() + m.auxParamBytes(),
                                m.imagesPerSecond(batch),
                                Double.isNaN(loaderImagesPerSecond) ? "" : loaderImagesPerSecond));
            }
            return csv;
        }

        /**
         * Returns a Markdown fragment: the table and the lines on the targets.
         *
         * @return Markdown text
         */
        public String markdown() {
            StringBuilder sb = new StringBuilder();
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "%s → %s, batch %d, input %s, %d classes, %s (%d processors); median of %d timed steps per "
                                    + "method after warm-up, methods interleaved in rounds.\n\n",
                            teacher,
                            student,
                            batch,
                            input,
                            classes,
                            device,
                            threads,
                            methods.isEmpty() ? 0 : methods.get(0).steps()));
            sb.append(
                    "| method | median ms/step | p25–p75 ms | ratio to KD | aux state | aux params "
                            + "| step consumes img/s |\n|---|---:|---:|---:|---:|---:|---:|\n");
            MethodResult kd = get("KD");
            for (MethodResult m : methods) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "| %s | %.1f | %.1f–%.1f | %s | %s | %s | %.0f |\n",
                                m.label(),
                                m.medianMs(),
                                m.p25Ms(),
                                m.p75Ms(),
                                kd == null
                                        ? "–"
                                        : String.format(
                                                Locale.ROOT, "%.2f", m.medianMs() / kd.medianMs()),
                                mb(m.stateBytes()),
                                mb(m.auxParamBytes()),
                                m.imagesPerSecond(batch)));
            }
            sb.append('\n');
            MethodResult crcd = get("CRCD");
            if (kd != null && crcd != null) {
                double r = crcd.medianMs() / kd.medianMs();
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "- CRCD/KD step time: %.2f (issue 15's target ≤ 2.0%s; multiply-add"
                                        + " bound about 1.6): %s.\n",
                                r,
                                device.startsWith("cpu") ? " on CPU" : ", set for CPU",
                                r <= 2.0 ? "**met**" : "**not met**"));
                MethodResult frcd = get("FRCD");
                MethodResult grcd = get("GRCD");
                if (frcd != null && grcd != null) {
                    double joint =
                            crcd.medianMs() - (frcd.medianMs() + grcd.medianMs() - kd.medianMs());
                    sb.append(
                            String.format(
                                    Locale.ROOT,
                                    "- CRCD − (FRCD + GRCD − KD) = %+.1f ms (target ≤ 0: no cost"
                                            + " from running both elements): %s.\n",
                                    joint,
                                    joint <= 0 ? "**met**" : "**not met**"));
                }
            }
            MethodResult crd = get("CRD+KD");
            if (kd != null && crd != null) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "- CRD+KD/KD step time: %.2f. CRD's memory bank: 2 × %,d × 128 "
                                        + "floats = %s expected; measured state %s.\n",
                                crd.medianMs() / kd.medianMs(),
                                datasetSize,
                                mb(2L * datasetSize * 128 * 4),
                                mb(crd.stateBytes())));
            }
            if (!Double.isNaN(loaderImagesPerSecond) && !methods.isEmpty()) {
                double fastest =
                        methods.stream().mapToDouble(m -> m.imagesPerSecond(batch)).max().orElse(0);
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "- Data loader (synthetic CIFAR-shaped images, crop + flip): "
                                        + "%.0f images/s; the fastest step consumes %.0f images/s: the loader %s.\n",
                                loaderImagesPerSecond,
                                fastest,
                                loaderImagesPerSecond >= fastest
                                        ? "keeps up"
                                        : "is the bottleneck"));
            }
            return sb.toString();
        }

        /**
         * Writes {@code PREFIX.csv} and {@code PREFIX.md} into a folder.
         *
         * @param dir the folder
         * @param prefix the file name prefix, e.g. {@code step-cpu-b64}
         * @throws IOException on a write error
         */
        public void write(Path dir, String prefix) throws IOException {
            toCsv().write(dir.resolve(prefix + ".csv"));
            AtomicFiles.write(dir.resolve(prefix + ".md"), markdown());
        }
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
    }

    /**
     * Runs the benchmark.
     *
     * @return the measurements
     */
    public Result run() {
        Shape in = new Shape(1, b.channels, b.size, b.size);
        Random rnd = new Random(b.seed);
        int[] datasetLabels = new int[b.datasetSize];
        for (int i = 0; i < datasetLabels.length; i++) {
            datasetLabels[i] = rnd.nextInt(b.classes);
        }
        Engine.getInstance().setRandomSeed((int) b.seed);
        List<MethodResult> results = new ArrayList<>();
        double loaderRate = Double.NaN;
        try (NDManager root = NDManager.newBaseManager(b.device)) {
            DistillableNetwork teacher = Models.create(b.teacher, b.classes, b.channels);
            teacher.initialize(root, DataType.FLOAT32, in);
            teacher.freezeParameters(true);
            calibrateBatchNorm(root, teacher, in);
            List<StepRig> rigs = new ArrayList<>();
            for (MethodSpec m : b.methods) {
                b.log.accept("building " + m.label() + " (" + m.method() + ")");
                rigs.add(
                        new StepRig(
                                root,
                                teacher,
                                Models.create(b.student, b.classes, b.channels),
                                m,
                                in,
                                datasetLabels,
                                b.seed,
                                0.05));
            }
            // a pool of input batches on the device, copied per step into the step's manager
            int pool = 4;
            List<NDArray[]> batches = new ArrayList<>();
            for (int i = 0; i < pool; i++) {
                NDArray x =
                        root.randomNormal(
                                new Shape(b.batch, b.channels, b.size, b.size)); // (B, C, H, W)
                long[] ys = new long[b.batch];
                long[] idx = new long[b.batch];
                for (int j = 0; j < b.batch; j++) {
                    idx[j] = rnd.nextInt(b.datasetSize);
                    ys[j] = datasetLabels[(int) idx[j]];
                }
                batches.add(new NDArray[] {x, root.create(ys), root.create(idx)});
            }
            int n = rigs.size();
            List<List<Double>> times = new ArrayList<>();
            double[] first = new double[n];
            double[] last = new double[n];
            for (int i = 0; i < n; i++) {
                times.add(new ArrayList<>());
            }
            int step = 0;
            for (int round = 0; round < b.warmup + b.rounds; round++) {
                for (int k = 0; k < n; k++) {
                    int i = (k + round) % n; // rotate the order
                    NDArray[] batch = batches.get(step++ % pool);
                    try (NDManager sm = root.newSubManager()) {
                        NDArray x = copy(batch[0], sm);
                        NDArray y = copy(batch[1], sm);
                        NDArray idx = copy(batch[2], sm);
                        long t0 = System.nanoTime();
                        float[] terms = rigs.get(i).step(x, y, idx);
                        double ms = (System.nanoTime() - t0) / 1e6;
                        double loss = 0;
                        for (float v : terms) {
                            loss += v;
                        }
                        if (round == 0) {
                            first[i] = loss;
                        }
                        last[i] = loss;
                        if (!Double.isFinite(loss)) {
                            throw new IllegalStateException(
                                    rigs.get(i).method().label()
                                            + ": loss is "
                                            + loss
                                            + " at round "
                                            + round
                                            + " (terms "
                                            + rigs.get(i).termNames()
                                            + ")");
                        }
                        if (round >= b.warmup) {
                            times.get(i).add(ms);
                        }
                    }
                }
                if (round == b.warmup - 1 || round == b.warmup + b.rounds - 1) {
                    b.log.accept("round " + (round + 1) + " of " + (b.warmup + b.rounds) + " done");
                }
            }
            if (b.profileDir != null) {
                try {
                    profile(root, rigs, batches, step);
                } catch (IOException e) {
                    throw new UncheckedIOException("profile: " + e.getMessage(), e);
                }
            }
            for (int i = 0; i < n; i++) {
                List<Double> t = times.get(i);
                StepRig r = rigs.get(i);
                results.add(
                        new MethodResult(
                                r.method().label(),
                                r.method().method(),
                                Stats.median(t),
                                percentile(t, 0.25),
                                percentile(t, 0.75),
                                t.size(),
                                r.stateBytes(),
                                r.auxParamBytes(),
                                first[i],
                                last[i]));
                r.close();
            }
            if (b.loaderBatches > 0) {
                loaderRate = loaderRate(root);
            }
        }
        return new Result(
                b.teacher,
                b.student,
                b.batch,
                new Shape(b.channels, b.size, b.size),
                b.classes,
                b.datasetSize,
                deviceName(b.device),
                Runtime.getRuntime().availableProcessors(),
                results,
                loaderRate);
    }

    /**
     * Records {@link Builder#optProfile} steps of each method with libtorch's profiler (after the
     * timed rounds, so the timings are unaffected) and writes {@code profile-<label>.json} (a
     * Chrome trace: chrome://tracing or ui.perfetto.dev) and one {@code profile.md} with each
     * method's operators by self time.
     */
    private void profile(NDManager root, List<StepRig> rigs, List<NDArray[]> batches, int step)
            throws IOException {
        Files.createDirectories(b.profileDir);
        StringBuilder md = new StringBuilder();
        md.append(
                String.format(
                        Locale.ROOT,
                        "# Operator profile: %s → %s, batch %d, %s%n%n"
                                + "libtorch's profiler over %d steps per method after the timed"
                                + " rounds; self time per operator (the profiler itself adds"
                                + " overhead, so compare operators, not totals with the step"
                                + " table).%n",
                        b.teacher,
                        b.student,
                        b.batch,
                        deviceName(b.device),
                        b.profileSteps));
        for (StepRig rig : rigs) {
            String label = rig.method().label();
            Path trace =
                    b.profileDir.resolve(
                            "profile-" + label.replaceAll("[^A-Za-z0-9_.+-]", "_") + ".json");
            JniUtils.startProfile(b.device.isGpu(), true, false);
            try {
                for (int k = 0; k < b.profileSteps; k++) {
                    NDArray[] batch = batches.get(step++ % batches.size());
                    try (NDManager sm = root.newSubManager()) {
                        rig.step(copy(batch[0], sm), copy(batch[1], sm), copy(batch[2], sm));
                    }
                }
            } finally {
                JniUtils.stopProfile(trace.toString());
            }
            md.append("\n## ").append(label).append("\n\n");
            md.append(TraceSummary.read(trace, b.profileSteps).markdown(25));
            b.log.accept("profiled " + label + ": " + trace);
        }
        AtomicFiles.write(b.profileDir.resolve("profile.md"), md.toString());
    }

    /**
     * Returns a short device name: {@code cpu} or {@code gpu0}.
     *
     * @param d the device
     * @return the name
     */
    static String deviceName(Device d) {
        return d.isGpu() ? "gpu" + d.getDeviceId() : "cpu";
    }

    private static NDArray copy(NDArray a, NDManager to) {
        NDArray c = a.duplicate();
        c.attach(to);
        return c;
    }

    private double loaderRate(NDManager root) {
        int n = b.batch * b.loaderBatches;
        ImageSet set = DataSets.synthetic(n, b.classes, b.channels, b.size, b.size, b.seed);
        try (NDManager lm = root.newSubManager();
                ImageLoader loader =
                        ImageLoader.builder()
                                .setData(set)
                                .setBatchSize(b.batch)
                                .setManager(lm)
                                .optAugment(true)
                                .optSeed(b.seed)
                                .build()) {
            int images = 0;
            long t0 = System.nanoTime();
            for (Iterator<IndexedBatch> it = loader.epoch(0); it.hasNext(); ) {
                try (IndexedBatch batch = it.next()) {
                    images += batch.size();
                }
            }
            return images / ((System.nanoTime() - t0) / 1e9);
        }
    }

    static double percentile(List<Double> xs, double q) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double pos = q * (a.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return a[lo] + (a[hi] - a[lo]) * (pos - lo);
    }

    /**
     * Sets the random teacher's BatchNorm running statistics from training-mode forwards on random
     * inputs, as a trained teacher's are. With the initial statistics (mean 0, variance 1) the
     * inference-mode activations of an untrained deep network grow through its residual blocks
     * until losses on its features overflow (VID's was infinite with resnet56); timing is the same
     * either way, but the bench refuses non-finite losses.
     *
     * @param root the manager owning the teacher
     * @param teacher the initialised teacher
     * @param in the input shape (B, C, H, W)
     */
    static void calibrateBatchNorm(NDManager root, DistillableNetwork teacher, Shape in) {
        try (NDManager m = root.newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            for (int k = 0; k < 30; k++) { // running = 0.9 running + 0.1 batch: 30 passes, 96 %
                try (NDManager step = m.newSubManager()) {
                    teacher.forward(ps, new NDList(step.randomNormal(in)), true);
                }
            }
        }
    }

    /** Builder for {@link StepBench}; every setting is optional. */
    public static final class Builder {
        private String teacher = "resnet56";
        private String student = "resnet20";
        private int batch = 64;
        private int classes = 100;
        private int channels = 3;
        private int size = 32;
        private int datasetSize = 50_000;
        private List<MethodSpec> methods = everyMethod();
        private int warmup = 5;
        private int rounds = 20;
        private int loaderBatches = 20;
        private long seed = 1;
        private Device device = Device.cpu();
        private Consumer<String> log = System.out::println;
        private Path profileDir;
        private int profileSteps = 2;

        Builder() {}

        /**
         * Profiles each method's step with libtorch's profiler after the timed rounds (see {@link
         * TraceSummary}).
         *
         * @param dir the folder for {@code profile-<label>.json} and {@code profile.md}
         * @param steps steps recorded per method, at least 1
         * @return this builder
         */
        public Builder optProfile(Path dir, int steps) {
            this.profileDir = dir;
            this.profileSteps = check("profile steps", steps, 1);
            return this;
        }

        /**
         * Sets the pair.
         *
         * @param teacher the teacher architecture
         * @param student the student architecture
         * @return this builder
         */
        public Builder optPair(String teacher, String student) {
            this.teacher = teacher;
            this.student = student;
            return this;
        }

        /**
         * Sets the batch size.
         *
         * @param batch B &gt;= 2
         * @return this builder
         */
        public Builder optBatch(int batch) {
            this.batch = check("batch", batch, 2);
            return this;
        }

        /**
         * Sets the input: classes, channels and square image size.
         *
         * @param classes C
         * @param channels input channels
         * @param size H = W
         * @return this builder
         */
        public Builder optInput(int classes, int channels, int size) {
            this.classes = check("classes", classes, 2);
            this.channels = check("channels", channels, 1);
            this.size = check("size", size, 4);
            return this;
        }

        /**
         * Sets the number of training labels (CRD's memory rows); 50,000 (CIFAR-100) by default.
         *
         * @param n the data set size
         * @return this builder
         */
        public Builder optDatasetSize(int n) {
            this.datasetSize = check("dataset size", n, 1);
            return this;
        }

        /**
         * Sets the methods compared.
         *
         * @param methods the methods; KD should be among them for the ratios
         * @return this builder
         */
        public Builder optMethods(List<MethodSpec> methods) {
            if (methods.isEmpty()) {
                throw new IllegalArgumentException("step bench: no method given");
            }
            this.methods = List.copyOf(methods);
            return this;
        }

        /**
         * Sets the untimed warm-up rounds and the timed rounds (one step per method each).
         *
         * @param warmup warm-up rounds &gt;= 1
         * @param rounds timed rounds &gt;= 1
         * @return this builder
         */
        public Builder optRounds(int warmup, int rounds) {
            this.warmup = check("warmup", warmup, 1);
            this.rounds = check("rounds", rounds, 1);
            return this;
        }

        /**
         * Sets how many batches the loader benchmark reads; 0 skips it.
         *
         * @param n batches
         * @return this builder
         */
        public Builder optLoaderBatches(int n) {
            this.loaderBatches = check("loader batches", n, 0);
            return this;
        }

        /**
         * Sets the device.
         *
         * @param device e.g. {@code Device.cpu()} or {@code Device.gpu()}
         * @return this builder
         */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /**
         * Sets the seed of inputs, labels and initialisation.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets where progress lines go.
         *
         * @param log the sink
         * @return this builder
         */
        public Builder optLog(Consumer<String> log) {
            this.log = log;
            return this;
        }

        private static int check(String what, int v, int min) {
            if (v < min) {
                throw new IllegalArgumentException(
                        "step bench: " + what + " must be >= " + min + ", got " + v);
            }
            return v;
        }

        /**
         * Builds the benchmark.
         *
         * @return the benchmark
         */
        public StepBench build() {
            return new StepBench(this);
        }
    }
}
