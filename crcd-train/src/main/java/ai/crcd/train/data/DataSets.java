package ai.crcd.train.data;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Opens the data sets by name. See {@code docs/data.md} for folders, formats and constants.
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
 *   <tr><td>image-folder</td><td>required</td><td>from the images</td>
 *       <td>size, channels, perClass</td></tr>
 *   <tr><td>synthetic</td><td>none</td><td>options</td>
 *       <td>size, classes, channels, height, width, seed, perClass</td></tr>
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

    private static final List<String> NAMES =
            List.of("cifar100", "cifar10", "fashion-mnist", "mnist", "image-folder", "synthetic");

    private static final Map<String, Set<String>> OPTIONS =
            Map.of(
                    "cifar100", Set.of("coarse", "download", "perClass"),
                    "cifar10", Set.of("download", "perClass"),
                    "fashion-mnist", Set.of("perClass"),
                    "mnist", Set.of("perClass"),
                    "image-folder", Set.of("size", "channels", "perClass"),
                    "synthetic",
                    Set.of("size", "classes", "channels", "height", "width", "seed", "perClass"));

    private DataSets() {}

    /**
     * Returns the names accepted by {@link #open}.
     *
     * @return cifar100, cifar10, fashion-mnist, mnist, image-folder, synthetic
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
     * Opens a split of a data set. CIFAR: when the files are missing, downloads the official
     * archive if online (MD5 verified, unpacked into {@code root}), else throws a {@link
     * DataSetException} saying where the files were expected and how to get them.
     *
     * @param name one of {@link #names()}
     * @param root the data folder, or {@code null} for the default location
     * @param train the training split, else the test split
     * @param options per-set options (see the class table), may be {@code null}: {@code coarse}
     *     (boolean), {@code download} (boolean, default true), {@code perClass} (int: keep the
     *     first n samples of each class), {@code size} (image-folder: "HxW" or an int; synthetic:
     *     sample count), {@code channels} (1 or 3), {@code classes}, {@code height}, {@code
     *     width}, {@code seed} (synthetic)
     * @return the set
     * @throws IllegalArgumentException for an unknown name or option or a bad option value
     * @throws DataSetException when files are missing, truncated or corrupt
     */
    public static ImageSet open(
            String name, Path root, boolean train, Map<String, Object> options) {
        Map<String, Object> opts = options == null ? Map.of() : options;
        Set<String> known = OPTIONS.get(name);
        if (known == null) {
            throw new IllegalArgumentException(
                    "unknown data set '" + name + "'; known: " + NAMES);
        }
        for (String k : opts.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException(
                        "data set '" + name + "' has no option '" + k + "'; options: " + known);
            }
        }
        String split = train ? "train" : "test";
        ImageSet set;
        switch (name) {
            case "cifar100", "cifar10" -> {
                CifarFormat f = name.equals("cifar100") ? CifarFormat.CIFAR100 : CifarFormat.CIFAR10;
                Path r = root == null ? defaultDataDir() : root;
                boolean coarse = bool(opts, "coarse", false);
                Path dir = CifarDownloader.locate(f, r, train, bool(opts, "download", true));
                List<Path> files = f.files(train).stream().map(dir::resolve).toList();
                set = f.read(files, name + (coarse ? "-coarse/" : "/") + split, coarse);
            }
            case "fashion-mnist", "mnist" -> {
                boolean fashion = name.equals("fashion-mnist");
                Path r =
                        root != null ? root
                                : fashion ? FASHION_MNIST_DIR : defaultDataDir().resolve("mnist");
                Path images = IdxFormat.file(r, train, true);
                if (!java.nio.file.Files.exists(images)) {
                    throw new DataSetException(
                            images, "file not found; " + (fashion
                                    ? "install Fashion-MNIST with 'sudo apt-get install "
                                            + "dataset-fashion-mnist' (or scripts/setup.sh)"
                                    : "put the MNIST IDX files (train-images-idx3-ubyte.gz, ...)"
                                            + " there")
                                    + " or give the folder holding the IDX files as data root");
                }
                set = IdxFormat.read(
                        images, IdxFormat.file(r, train, false), name + "/" + split, 10,
                        fashion ? FASHION_MNIST_MEAN : MNIST_MEAN,
                        fashion ? FASHION_MNIST_STD : MNIST_STD);
            }
            case "image-folder" -> {
                if (root == null) {
                    throw new IllegalArgumentException(
                            "data set 'image-folder' needs a root folder (one sub-folder per "
                                    + "class, or train/ and test/ holding them)");
                }
                Path splitDir = root.resolve(split);
                Path dir = java.nio.file.Files.isDirectory(splitDir) ? splitDir : root;
                int[] hw = size(opts.get("size"));
                set = ImageFolderFormat.read(
                        dir, "image-folder/" + split, integer(opts, "channels", 3), hw[0], hw[1]);
            }
            default -> { // synthetic
                long seed = integer(opts, "seed", 0) + (train ? 0 : 1_000_003L);
                set = synthetic(
                        integer(opts, "size", train ? 512 : 256),
                        integer(opts, "classes", 10),
                        integer(opts, "channels", 3),
                        integer(opts, "height", 32),
                        integer(opts, "width", 32),
                        seed);
            }
        }
        if (opts.containsKey("perClass")) {
            set = set.firstPerClass(integer(opts, "perClass", 0));
        }
        return set;
    }

    /**
     * Generates a learnable data set: each class has a fixed random template (a coarse 4x4 grid
     * of per-channel intensities, upsampled), and each sample is its template plus uniform noise
     * of +-48 and a random shift of up to 2 px, so a small CNN separates the classes well above
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

    private static boolean bool(Map<String, Object> o, String key, boolean def) {
        Object v = o.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(
                "option '" + key + "' must be true or false, got '" + v + "'");
    }

    private static int integer(Map<String, Object> o, String key, int def) {
        Object v = o.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number num) {
            return num.intValue();
        }
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "option '" + key + "' must be an integer, got '" + v + "'", e);
        }
    }

    private static int[] size(Object v) {
        if (v == null) {
            return new int[] {0, 0};
        }
        if (v instanceof Number num) {
            return new int[] {num.intValue(), num.intValue()};
        }
        String s = v.toString().trim().toLowerCase(java.util.Locale.ROOT);
        try {
            int x = s.indexOf('x');
            if (x < 0) {
                int k = Integer.parseInt(s);
                return new int[] {k, k};
            }
            return new int[] {
                Integer.parseInt(s.substring(0, x).trim()), Integer.parseInt(s.substring(x + 1).trim())
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "option 'size' must be HxW (e.g. \"32x32\") or an integer, got '" + v + "'", e);
        }
    }
}
