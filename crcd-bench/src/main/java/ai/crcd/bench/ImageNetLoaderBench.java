package ai.crcd.bench;

import ai.crcd.train.data.ImageNetFolder;
import ai.crcd.train.data.ImageNetLoader;
import ai.crcd.train.data.ImageNetTransform;
import ai.crcd.train.data.IndexedBatch;
import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Throughput and memory of the streaming ImageNet-folder loader ({@link ImageNetLoader}) on
 * ImageNet-size JPEGs: it writes a folder of generated 500x375 / 375x500 JPEGs (ImageNet's typical
 * sizes; smooth colour fields + noise + shapes at quality 90, about the bytes per pixel of photos)
 * once, then streams it with the training transform (random resized crop 224 + flip) and the
 * evaluation transform (resize 256 + centre crop 224), and reports images/s, the largest heap use
 * and the largest resident set size (VmRSS, sampled every 10 ms) while streaming, once with the
 * configured prefetch and once with 3x it (the memory bound follows prefetch, not the folder size),
 * and the process CPU time spent, as images per CPU-second (what one core decodes, robust on a
 * shared machine). In the same run it measures a ResNet34 -> ResNet18 KD training step at 224x224
 * on this machine's CPU and prints the ratio.
 *
 * <p>Usage: {@code ImageNetLoaderBench [csv]} (default {@code target/bench/imagenet-loader.csv});
 * system properties {@code bench.dir} (the JPEG folder, default {@code
 * target/bench/imagenet-jpegs}), {@code bench.images} (1000), {@code bench.batch} (256), {@code
 * bench.threads} (available processors), {@code bench.prefetch} (2), {@code bench.seconds} (20 per
 * measurement), {@code bench.step} (true: also the KD step, batch {@code bench.stepBatch} = 16).
 * Run through {@code scripts/bench.sh imagenet-loader} (docs/imagenet.md).
 */
public final class ImageNetLoaderBench {

    private static final int CLASSES = 10;

    private ImageNetLoaderBench() {}

    /**
     * Runs the benchmark.
     *
     * @param args optional CSV output path
     * @throws IOException when the folder or the CSV cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path csv = Paths.get(args.length > 0 ? args[0] : "target/bench/imagenet-loader.csv");
        Path dir = Paths.get(System.getProperty("bench.dir", "target/bench/imagenet-jpegs"));
        int images = Integer.getInteger("bench.images", 1000);
        int batch = Integer.getInteger("bench.batch", 256);
        int threads =
                Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());
        int prefetch = Integer.getInteger("bench.prefetch", 2);
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "20"));
        boolean step = Boolean.parseBoolean(System.getProperty("bench.step", "true"));
        int stepBatch = Integer.getInteger("bench.stepBatch", 16);

        long bytes = writeFolder(dir, images);
        ImageNetFolder folder = ImageNetFolder.scan(dir.resolve("train"), "bench/train", null);
        System.out.printf(
                Locale.ROOT,
                "folder %s: %d JPEGs (500x375 / 375x500), %.1f MB, %.0f KB each; max heap %d MB;"
                        + " %d cores%n",
                dir,
                folder.size(),
                bytes / 1e6,
                bytes / 1e3 / folder.size(),
                Runtime.getRuntime().maxMemory() >> 20,
                Runtime.getRuntime().availableProcessors());
        List<String> rows = new ArrayList<>();
        rows.add(
                "what,transform,batch,threads,prefetch,images,seconds,images_per_s,cpu_s,"
                        + "images_per_cpu_s,max_heap_mb,max_rss_mb,batch_bytes_mb");
        double trainRate = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.zeros(new ai.djl.ndarray.types.Shape(1)).close(); // engine loaded
            System.out.printf(
                    Locale.ROOT,
                    "RSS before streaming (JVM + libtorch): %.0f MB%n",
                    rssBytes() / 1e6);
            Object[][] runs = {
                {ImageNetTransform.train(224), prefetch},
                {ImageNetTransform.eval(256, 224), prefetch},
                {ImageNetTransform.train(224), 3 * prefetch},
            };
            for (Object[] run : runs) {
                ImageNetTransform t = (ImageNetTransform) run[0];
                int p = (Integer) run[1];
                try (ImageNetLoader loader =
                        ImageNetLoader.builder()
                                .setFolder(folder)
                                .setTransform(t)
                                .setBatchSize(batch)
                                .setManager(manager)
                                .optThreads(threads)
                                .optPrefetch(p)
                                .optSeed(1)
                                .build()) {
                    double[] r = measure(loader, seconds);
                    double rate = r[0] / r[1];
                    if (t.isTrain() && p == prefetch) {
                        trainRate = rate;
                    }
                    String name = t.isTrain() ? "train(rrc224+flip)" : "eval(resize256+crop224)";
                    double batchMb = (double) batch * t.imageBytes() / 1e6;
                    System.out.printf(
                            Locale.ROOT,
                            "loader %-24s batch %d, %d threads, prefetch %d: %,.1f images/s,"
                                    + " %,.1f images per CPU-second; max heap %.0f MB, max RSS %.0f MB"
                                    + " (one uint8 batch %.1f MB)%n",
                            name,
                            batch,
                            threads,
                            p,
                            rate,
                            r[0] / r[4],
                            r[2],
                            r[3],
                            batchMb);
                    rows.add(
                            String.format(
                                    Locale.ROOT,
                                    "loader,%s,%d,%d,%d,%.0f,%.2f,%.1f,%.2f,%.1f,%.0f,%.0f,%.1f",
                                    name,
                                    batch,
                                    threads,
                                    p,
                                    r[0],
                                    r[1],
                                    rate,
                                    r[4],
                                    r[0] / r[4],
                                    r[2],
                                    r[3],
                                    batchMb));
                }
            }
            if (step) {
                double[] k =
                        LoaderBench.kdStep(
                                manager, seconds, "resnet34", "resnet18", stepBatch, 224, 1000);
                double kd = k[0] / k[1];
                System.out.printf(
                        Locale.ROOT,
                        "KD step resnet34->resnet18 224x224 (CE+KD, SGD), batch %d, %s: %,.2f images/s;"
                                + " loader/step %.1fx%n",
                        stepBatch,
                        manager.getDevice(),
                        kd,
                        trainRate / kd);
                rows.add(
                        String.format(
                                Locale.ROOT,
                                "kd_step,resnet34->resnet18,%d,-,-,%.0f,%.2f,%.2f,-,-,-,-,-",
                                stepBatch,
                                k[0],
                                k[1],
                                kd));
            }
        }
        Files.createDirectories(csv.toAbsolutePath().getParent());
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
            rows.forEach(w::println);
        }
        System.out.println("wrote " + csv);
    }

    /**
     * One epoch (at least {@code seconds}, whole epochs) after a one-batch warm-up, sampling
     * memory.
     *
     * @return {images, seconds, max heap MB, max RSS MB, process CPU seconds}
     */
    private static double[] measure(ImageNetLoader loader, double seconds) {
        loader.epoch(0).next().close();
        AtomicLong maxHeap = new AtomicLong();
        AtomicLong maxRss = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler =
                new Thread(
                        () -> {
                            Runtime rt = Runtime.getRuntime();
                            while (!done.get()) {
                                maxHeap.accumulateAndGet(
                                        rt.totalMemory() - rt.freeMemory(), Math::max);
                                maxRss.accumulateAndGet(rssBytes(), Math::max);
                                try {
                                    Thread.sleep(10);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
        long n = 0;
        long cpu0 = processCpuNanos();
        long start = System.nanoTime();
        int epoch = 1;
        do {
            for (Iterator<IndexedBatch> it = loader.epoch(epoch++); it.hasNext(); ) {
                try (IndexedBatch b = it.next()) {
                    n += b.size();
                }
            }
        } while (System.nanoTime() - start < seconds * 1e9);
        double secs = (System.nanoTime() - start) / 1e9;
        double cpu = (processCpuNanos() - cpu0) / 1e9;
        done.set(true);
        try {
            sampler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new double[] {n, secs, maxHeap.get() / 1e6, maxRss.get() / 1e6, cpu};
    }

    /** CPU time of this process (all threads), or 0 where the JVM does not tell. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : 0;
    }

    /** VmRSS of this process from /proc/self/status, 0 where there is none. */
    private static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /**
     * Writes {@code images} JPEGs into {@code dir/train/<class>/} unless that many are there.
     *
     * @return the bytes on disk
     */
    static long writeFolder(Path dir, int images) throws IOException {
        Path train = dir.resolve("train");
        if (count(train) != images) {
            SplittableRandom rnd = new SplittableRandom(42);
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.9f);
            for (int i = 0; i < images; i++) {
                Path cls =
                        Files.createDirectories(train.resolve(String.format("n%08d", i % CLASSES)));
                boolean portrait = rnd.nextInt(4) == 0;
                BufferedImage img = photoLike(portrait ? 375 : 500, portrait ? 500 : 375, rnd);
                Path f = cls.resolve(String.format("img_%06d.JPEG", i));
                try (ImageOutputStream out = ImageIO.createImageOutputStream(f.toFile())) {
                    writer.setOutput(out);
                    writer.write(null, new IIOImage(img, null, null), param);
                }
            }
            writer.dispose();
        }
        long bytes = 0;
        try (Stream<Path> s = Files.walk(train)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                bytes += Files.size(p);
            }
        }
        return bytes;
    }

    private static long count(Path train) throws IOException {
        if (!Files.isDirectory(train)) {
            return -1;
        }
        try (Stream<Path> s = Files.walk(train)) {
            return s.filter(p -> p.toString().endsWith(".JPEG")).count();
        }
    }

    /** Smooth colour fields (a few random cosines), rectangles and pixel noise. */
    private static BufferedImage photoLike(int w, int h, SplittableRandom rnd) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        double[][] waves = new double[6][];
        for (int k = 0; k < waves.length; k++) {
            waves[k] =
                    new double[] {
                        rnd.nextDouble() * 0.08, rnd.nextDouble() * 0.08, rnd.nextDouble() * 6.3,
                        40 * rnd.nextDouble(), 40 * rnd.nextDouble(), 40 * rnd.nextDouble()
                    };
        }
        int[][] rects = new int[5][];
        for (int k = 0; k < rects.length; k++) {
            rects[k] =
                    new int[] {
                        rnd.nextInt(w),
                        rnd.nextInt(h),
                        20 + rnd.nextInt(150),
                        20 + rnd.nextInt(150),
                        rnd.nextInt(0xFFFFFF)
                    };
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double r = 128;
                double g = 128;
                double b = 128;
                for (double[] v : waves) {
                    double c = Math.cos(v[0] * x + v[1] * y + v[2]);
                    r += v[3] * c;
                    g += v[4] * c;
                    b += v[5] * c;
                }
                int rgb = -1;
                for (int[] q : rects) {
                    if (x >= q[0] && x < q[0] + q[2] && y >= q[1] && y < q[1] + q[3]) {
                        rgb = q[4];
                    }
                }
                if (rgb >= 0) {
                    r = (r + ((rgb >> 16) & 255)) / 2;
                    g = (g + ((rgb >> 8) & 255)) / 2;
                    b = (b + (rgb & 255)) / 2;
                }
                int n = rnd.nextInt(25) - 12;
                img.setRGB(x, y, (clamp(r + n) << 16) | (clamp(g + n) << 8) | clamp(b + n));
            }
        }
        return img;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
