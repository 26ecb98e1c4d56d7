package ai.crcd.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Writes ImageNet-style folders of generated JPEGs for tests: {@code root/train/<wnid>/} and {@code
 * root/val/<wnid>/}, class k a distinct colour plus noise and a bright square at a class-dependent
 * corner, so that a small network can learn the classes.
 */
public final class ImageNetFolders {

    private ImageNetFolders() {}

    /**
     * The wnid-like name of class k.
     *
     * @param k the class
     * @return {@code n0000000k} (8 digits)
     */
    public static String wnid(int k) {
        return String.format("n%08d", 1440764 + k);
    }

    /**
     * Writes a folder.
     *
     * @param root the root folder
     * @param classes C
     * @param trainPerClass training images per class
     * @param valPerClass validation images per class
     * @param minSide the smallest image side (sizes are drawn in [minSide, 2 * minSide))
     * @param seed the generator seed
     * @throws IOException when a file cannot be written
     */
    public static void write(
            Path root, int classes, int trainPerClass, int valPerClass, int minSide, long seed)
            throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (String split : new String[] {"train", "val"}) {
            int per = split.equals("train") ? trainPerClass : valPerClass;
            for (int k = 0; k < classes; k++) {
                Path dir = Files.createDirectories(root.resolve(split).resolve(wnid(k)));
                for (int i = 0; i < per; i++) {
                    int w = minSide + rnd.nextInt(minSide);
                    int h = minSide + rnd.nextInt(minSide);
                    jpeg(dir.resolve(wnid(k) + "_" + i + ".JPEG"), image(w, h, k, classes, rnd));
                }
            }
        }
    }

    /**
     * A class-coloured noisy image.
     *
     * @param w width
     * @param h height
     * @param k class
     * @param classes C
     * @param rnd noise generator
     * @return the image
     */
    static BufferedImage image(int w, int h, int k, int classes, SplittableRandom rnd) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        double hue = (double) k / classes;
        int r0 = (int) (127 + 100 * Math.cos(2 * Math.PI * hue));
        int g0 = (int) (127 + 100 * Math.cos(2 * Math.PI * (hue + 1.0 / 3)));
        int b0 = (int) (127 + 100 * Math.cos(2 * Math.PI * (hue + 2.0 / 3)));
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int n = rnd.nextInt(61) - 30;
                boolean square = (k % 2 == 0) == (x < w / 2) && (k / 2 % 2 == 0) == (y < h / 2);
                int add = square ? 60 : 0;
                int r = clamp(r0 + n + add);
                int g = clamp(g0 + n + add);
                int b = clamp(b0 + n + add);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /**
     * Writes a JPEG (ImageIO's default quality 0.75).
     *
     * @param file the file
     * @param img the image
     * @throws IOException when it cannot be written
     */
    public static void jpeg(Path file, BufferedImage img) throws IOException {
        if (!ImageIO.write(img, "jpeg", file.toFile())) {
            throw new IOException("no JPEG writer");
        }
    }
}
