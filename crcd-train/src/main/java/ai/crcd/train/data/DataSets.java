package ai.crcd.train.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the data sets by name. See {@code docs/data.md} for folders, formats and constants. Options
 * are checked by {@link DataOptions}; {@link #openSplits} opens the training and test split
 * together (one class list, the training split's statistics, {@link TestSplit}).
 *
 * <table>
 *   <caption>Data sets</caption>
 *   <tr><th>name</th><th>default root</th><th>shape, classes</th><th>options</th></tr>
 *   <tr><td>cifar100</td><td>{@code <data>/}, files in {@code cifar-100-binary/}</td>
 *       <td>3x32x32, 100 (20 coarse)</td><td>coarse, download, perClass</td></tr>
 *   <tr><td>cifar10</td><td>{@code <data>/}, files in {@code cifar-10-batches-bin/}</td>
 *       <td>3x32x32, 10</td><td>download, perClass</td></tr>
 *   <tr><td>fashion-mnist</td><td>{@code /usr/share/datasets/fashion-mnist}</td>
 *       <td>1x28x28, 10</td><td>perClass</td></tr>
 *   <tr><td>mnist</td><td>{@code <data>/mnist}</td><td>1x28x28, 10</td><td>perClass</td></tr>
 *   <tr><td>image-folder</td><td>required: {@code train/} and {@code test/} holding one
 *       sub-folder per class (or the class folders directly, with a held-out test split)</td>
 *       <td>from the training images</td><td>size, channels, perClass</td></tr>
 *   <tr><td>synthetic</td><td>none</td><td>options</td>
 *       <td>size, testSize, classes, channels, height, width, seed, perClass</td></tr>
 *   <tr><td>imagenet-folder</td><td>{@code <data>/imagenet}: {@code train/<wnid>/*.JPEG},
 *       {@code val/<wnid>/*.JPEG}</td><td>3x224x224, from train/</td>
 *       <td>crop, resize, threads, prefetch, perClass; streamed by {@link ImageNetLoader}, never
 *       held in memory, so {@link #open} refuses it</td></tr>
 * </table>
 *
 * <p>{@code <data>} is the system property {@code crcd.data.dir}, else the environment variable
 * {@code CRCD_DATA}, else {@code ~/.crcd/data}.
 */
public final class DataSets {

    /** Default folder of the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist). */
    public static final Path FASHION_MNIST_DIR = Paths.get("/usr/share/datasets/fashion-mnist");

    /**
     * Fashion-MNIST mean of pixel/255 over the 60,000 training images, computed by {@link
     * ImageSet#computeStats()} on the installed files (checked by a test).
     */
    public static final float[] FASHION_MNIST_MEAN = {0.2860406f};

    /** Fashion-MNIST population std of pixel/255 over the 60,000 training images. */
    public static final float[] FASHION_MNIST_STD = {0.3530242f};

    /** MNIST mean of pixel/255 over the training images (the values used by torchvision). */
    public static final float[] MNIST_MEAN = {0.1307f};

    /** MNIST std of pixel/255 over the training images (the values used by torchvision). */
    public static final float[] MNIST_STD = {0.3081f};

    private static final Logger LOG = LoggerFactory.getLogger(DataSets.class);

    /** Sets normalised with statistics computed from their training images. */
    private static final Set<String> STATS_FROM_DATA = Set.of("image-folder", "synthetic");

    private static final List<String> NAMES =
            List.of(
                    "cifar100",
                    "cifar10",
                    "fashion-mnist",
                    "mnist",
                    "image-folder",
                    "synthetic",
                    "imagenet-folder");

    private DataSets() {}

    /**
     * Returns the names accepted by {@link #open}.
     *
     * @return cifar100, cifar10, fashion-mnist, mnist, image-folder, synthetic, imagenet-folder
     *     (streamed from disk: opened by {@link ImageNetLoader}, not by {@link #open})
     */
    public static List<String> names() {
        return NAMES;
    }

    /**
     * Returns the default data root: system property {@code crcd.data.dir}, else environment
     * variable {@code CRCD_DATA}, else {@code ~/.crcd/data}.
     *
     * @return the folder
     */
    public static Path defaultDataDir() {
        String p = System.getProperty("crcd.data.dir");
        if (p == null || p.isBlank()) {
            p = System.getenv("CRCD_DATA");
        }
        if (p == null || p.isBlank()) {
            return Paths.get(System.getProperty("user.home"), ".crcd", "data");
        }
        return Paths.get(p);
    }

    /**
     * Opens one split of a data set. The test split of a set whose classes or statistics come from
     * its images (image-folder, synthetic) is {@link #openSplits opened with the training split},
     * with {@link TestSplit#FOLDER}: its class list and statistics are the training split's, and an
     * image folder without {@code train/} and {@code test/} is an error.
     *
     * @param name one of {@link #names()}
     * @param root the data folder, or {@code null} for the default location
     * @param train the training split, else the test split
     * @param options per-set options, checked by {@link DataOptions#of}, may be {@code null}:
     *     {@code coarse} (boolean), {@code download} (boolean, default true), {@code perClass}
     *     (int: keep the first n samples of each class), {@code size} (image-folder: "HxW" or an
     *     int; synthetic: sample count), {@code channels} (image-folder: 1 or 3), {@code classes},
     *     {@code height}, {@code width}, {@code seed} (synthetic)
     * @return the set
     * @throws IllegalArgumentException for an unknown name or option or a bad option value
     * @throws DataSetException when files are missing, truncated or corrupt
     */
    public static ImageSet open(
            String name, Path root, boolean train, Map<String, Object> options) {
        DataOptions opts = DataOptions.of(name, options);
        if (!train && STATS_FROM_DATA.contains(name)) {
            // the test split depends on the training split (class list, statistics)
            return openSplits(name, root, opts, TestSplit.FOLDER, 0).test();
        }
        ImageSet set = read(name, root, train, opts, null); // fixed classes and constants
        return opts.has("perClass") ? set.firstPerClass(opts.integer("perClass", 0)) : set;
    }

    /**
     * Describes the classes a test split has no images of, whose accuracy a run cannot measure.
     *
     * @param name the data set's name, first in the message
     * @param labels the test split's labels
     * @param numClasses the class count of the training split
     * @param classNames the class names, or empty to call them by index
     * @return one warning line, or {@code null} if every class has test images
     */
    public static String missingClasses(
            String name, int[] labels, int numClasses, List<String> classNames) {
        int[] count = new int[numClasses];
        for (int l : labels) {
            count[l]++;
        }
        List<String> missing = new ArrayList<>();
        for (int k = 0; k < count.length; k++) {
            if (count[k] == 0) {
                missing.add(classNames.isEmpty() ? "class " + k : classNames.get(k));
            }
        }
        if (missing.isEmpty()) {
            return null;
        }
        return name
                + ": the test split has no images of "
                + missing.size()
                + " of "
                + count.length
                + " classes "
                + (missing.size() <= 10 ? missing : missing.subList(0, 10) + " (first 10)")
                + "; their accuracy is not measured";
    }

    /**
     * Opens the training split and the split a run is evaluated on, consistently: the test split's
     * labels follow the training split's class list (image-folder: by folder name; a test folder of
     * an unknown class is an error, a class without test images a warning), it is normalised with
     * the training split's statistics, and it is never the training images unless {@link
     * TestSplit#TRAIN} asks for that. {@link TestSplit#holdout holdout:F} takes, from every class
     * of the training split, {@code round(F * n_k)} samples (at least 1 when the class has 2 or
     * more, never all) chosen by a shuffle seeded by {@code seed}, and removes them from training;
     * statistics computed from data are then recomputed from what stays in training. {@code
     * perClass} applies to both splits.
     *
     * @param name one of {@link #names()}
     * @param root the data folder, or {@code null} for the default location
     * @param options the checked options ({@link DataOptions#of})
     * @param testSplit which images to evaluate on
     * @param seed the seed of the held-out choice
     * @return the two splits and any warnings (also logged)
     * @throws DataSetException when files are missing or corrupt, an image folder has no {@code
     *     test/} folder with {@link TestSplit#FOLDER}, or a test class is unknown
     */
    public static DataSplits openSplits(
            String name, Path root, DataOptions options, TestSplit testSplit, long seed) {
        if (!name.equals(options.dataSet())) {
            throw new IllegalArgumentException(
                    "options of '" + options.dataSet() + "' given for data set '" + name + "'");
        }
        List<String> warnings = new ArrayList<>();
        ImageSet train = read(name, root, true, options, null);
        ImageSet test;
        switch (testSplit.kind()) {
            case FOLDER -> test = read(name, root, false, options, train);
            case TRAIN -> {
                test = train;
                warnings.add(
                        name
                                + ": evaluating on the training images (data.test_split: "
                                + "train): test accuracy is training accuracy");
            }
            default -> { // HOLDOUT
                if ("image-folder".equals(name) && Files.isDirectory(root.resolve("test"))) {
                    warnings.add(
                            root.resolve("test")
                                    + ": not used, the test split is held out"
                                    + " of the training split (data.test_split: "
                                    + testSplit
                                    + ")");
                }
                int[][] parts = holdout(train, testSplit.fraction(), seed);
                test = train.subset(parts[1]);
                train = train.subset(parts[0]);
                if (STATS_FROM_DATA.contains(name)) {
                    float[][] st = statsOf(train);
                    train = train.withNormalization(st[0], st[1]);
                }
            }
        }
        test = test.withNormalization(train.mean(), train.std());
        if (options.has("perClass")) {
            int n = options.integer("perClass", 0);
            train = train.firstPerClass(n);
            test = testSplit.kind() == TestSplit.Kind.TRAIN ? train : test.firstPerClass(n);
        }
        String missing = missingClasses(name, test.labels(), test.numClasses(), test.classNames());
        if (missing != null) {
            warnings.add(missing);
        }
        for (String w : warnings) {
            LOG.warn(w);
        }
        return new DataSplits(train, test, testSplit, warnings);
    }

    /**
     * Splits every class of a set by a seeded shuffle: {@code round(F * n_k)} samples of class k go
     * to test (at least 1 when {@code n_k >= 2}, never all), the others stay in training.
     *
     * @return {training indices, test indices}, each in ascending order
     */
    static int[][] holdout(ImageSet set, double fraction, long seed) {
        int n = set.size();
        int classes = set.numClasses();
        int[][] byClass = new int[classes][];
        int[] count = new int[classes];
        for (int l : set.labels()) {
            count[l]++;
        }
        for (int k = 0; k < classes; k++) {
            byClass[k] = new int[count[k]];
            count[k] = 0;
        }
        for (int i = 0; i < n; i++) {
            int l = set.label(i);
            byClass[l][count[l]++] = i;
        }
        boolean[] isTest = new boolean[n];
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x70_1D_0D7L);
        for (int k = 0; k < classes; k++) {
            int[] idx = byClass[k];
            for (int i = idx.length - 1; i > 0; i--) { // Fisher-Yates
                int j = rnd.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
            int take = (int) Math.round(fraction * idx.length);
            take = Math.min(Math.max(take, idx.length >= 2 ? 1 : 0), Math.max(idx.length - 1, 0));
            for (int i = 0; i < take; i++) {
                isTest[idx[i]] = true;
            }
        }
        int nt = 0;
        for (boolean b : isTest) {
            nt += b ? 1 : 0;
        }
        if (nt == 0) {
            throw new DataSetException(
                    null,
                    set.name()
                            + ": holdout:"
                            + fraction
                            + " leaves no test images (every"
                            + " class has fewer than 2 images); add images or use test_split:"
                            + " folder");
        }
        int[] tr = new int[n - nt];
        int[] te = new int[nt];
        int a = 0;
        int b = 0;
        for (int i = 0; i < n; i++) {
            if (isTest[i]) {
                te[b++] = i;
            } else {
                tr[a++] = i;
            }
        }
        return new int[][] {tr, te};
    }

    /** Per-channel mean/std of a set; a constant channel gets std 1 (no division by zero). */
    private static float[][] statsOf(ImageSet set) {
        float[][] st = set.computeStats();
        for (int c = 0; c < st[1].length; c++) {
            if (!(st[1][c] > 0)) {
                st[1][c] = 1f;
            }
        }
        return st;
    }

    /**
     * Reads one split as stored. For the test split of an image folder, {@code trainSet} gives the
     * class list and image size it must agree with.
     */
    private static ImageSet read(
            String name, Path root, boolean train, DataOptions opts, ImageSet trainSet) {
        String split = train ? "train" : "test";
        switch (name) {
            case "imagenet-folder" ->
                    throw new IllegalArgumentException(
                            "data set 'imagenet-folder' is streamed from disk, not held in memory: open it"
                                    + " with ImageNetFolder.scan + ImageNetLoader (a run config does this)");
            case "cifar100", "cifar10" -> {
                CifarFormat f =
                        name.equals("cifar100") ? CifarFormat.CIFAR100 : CifarFormat.CIFAR10;
                Path r = root == null ? defaultDataDir() : root;
                boolean coarse = opts.bool("coarse", false);
                Path dir = CifarDownloader.locate(f, r, train, opts.bool("download", true));
                List<Path> files = f.files(train).stream().map(dir::resolve).toList();
                return f.read(files, name + (coarse ? "-coarse/" : "/") + split, coarse);
            }
            case "fashion-mnist", "mnist" -> {
                boolean fashion = name.equals("fashion-mnist");
                Path r =
                        root != null
                                ? root
                                : fashion ? FASHION_MNIST_DIR : defaultDataDir().resolve("mnist");
                Path images = IdxFormat.file(r, train, true);
                if (!Files.exists(images)) {
                    throw new DataSetException(
                            images,
                            "file not found; "
                                    + (fashion
                                            ? "install Fashion-MNIST with 'sudo apt-get install "
                                                    + "dataset-fashion-mnist' (or scripts/setup.sh)"
                                            : "put the MNIST IDX files (train-images-idx3-ubyte.gz, ...)"
                                                    + " there")
                                    + " or give the folder holding the IDX files as data root");
                }
                return IdxFormat.read(
                        images,
                        IdxFormat.file(r, train, false),
                        name + "/" + split,
                        10,
                        fashion ? FASHION_MNIST_MEAN : MNIST_MEAN,
                        fashion ? FASHION_MNIST_STD : MNIST_STD);
            }
            case "image-folder" -> {
                if (root == null) {
                    throw new IllegalArgumentException(
                            "data set 'image-folder' needs a root folder (train/ and test/ holding"
                                    + " one sub-folder per class, or the class folders directly"
                                    + " with a held-out test split)");
                }
                int[] hw = opts.size();
                int channels = opts.integer("channels", 3);
                Path trainDir = root.resolve("train");
                if (train) {
                    Path dir = Files.isDirectory(trainDir) ? trainDir : root;
                    return ImageFolderFormat.read(
                            dir, "image-folder/train", channels, hw[0], hw[1]);
                }
                Path testDir = root.resolve("test");
                if (!Files.isDirectory(trainDir) || !Files.isDirectory(testDir)) {
                    throw new DataSetException(
                            Files.isDirectory(trainDir) ? testDir : root,
                            (Files.isDirectory(trainDir)
                                            ? "no test/ folder next to train/"
                                            : "no train/ and test/ folders (the class folders are"
                                                    + " directly in the root)")
                                    + ", so there is no test split: put the test images in "
                                    + testDir
                                    + "/<class>/, or set data.test_split: holdout:0.1"
                                    + " (a held-out part of the training images) or train"
                                    + " (evaluate on the training images)");
                }
                boolean resize = hw[0] > 0;
                return ImageFolderFormat.read(
                        testDir,
                        "image-folder/test",
                        channels,
                        resize ? hw[0] : trainSet.height(),
                        resize ? hw[1] : trainSet.width(),
                        resize,
                        trainSet.classNames());
            }
            default -> { // synthetic
                long seed = opts.integer("seed", 0) + (train ? 0 : 1_000_003L);
                return synthetic(
                        train
                                ? opts.integer("size", 512)
                                : opts.integer("testSize", opts.integer("size", 256)),
                        opts.integer("classes", 10),
                        opts.integer("channels", 3),
                        opts.integer("height", 32),
                        opts.integer("width", 32),
                        seed);
            }
        }
    }

    /**
     * Generates a learnable data set: each class has a fixed random template (a coarse 4x4 grid of
     * per-channel intensities, upsampled), and each sample is its template plus uniform noise of
     * +-48 and a random shift of up to 2 px, so a small CNN separates the classes well above
     * chance. Labels are {@code i % numClasses}. Deterministic for a seed.
     *
     * @param n the number of samples
     * @param numClasses the number of classes
     * @param channels C
     * @param height H
     * @param width W
     * @param seed the seed
     * @return the set, named {@code synthetic}, normalised with its own statistics
     */
    public static ImageSet synthetic(
            int n, int numClasses, int channels, int height, int width, long seed) {
        if (n < 1 || numClasses < 1 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(
                    "synthetic: n, numClasses, channels, height, width must be >= 1");
        }
        // templates depend on the class only (seed ^ constant), so train and test agree
        SplittableRandom tr = new SplittableRandom(0x5EEDL);
        int[][] templates = new int[numClasses][channels * 16];
        for (int[] t : templates) {
            for (int j = 0; j < t.length; j++) {
                t[j] = 40 + tr.nextInt(176);
            }
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = channels * height * width;
        byte[] px = new byte[n * d];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int k = i % numClasses;
            labels[i] = k;
            int sy = rnd.nextInt(5) - 2;
            int sx = rnd.nextInt(5) - 2;
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    int gy = Math.floorMod((y + sy) * 4 / height, 4);
                    for (int x = 0; x < width; x++) {
                        int gx = Math.floorMod((x + sx) * 4 / width, 4);
                        int v = templates[k][c * 16 + gy * 4 + gx] + rnd.nextInt(97) - 48;
                        px[i * d + (c * height + y) * width + x] =
                                (byte) Math.max(0, Math.min(255, v));
                    }
                }
            }
        }
        return ImageSet.builder()
                .setName("synthetic")
                .setShape(channels, height, width)
                .setNumClasses(numClasses)
                .setData(px, labels)
                .build();
    }
}
