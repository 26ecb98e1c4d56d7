package ai.crcd.train.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder of images with one sub-folder per class, for users' own data: {@code root/<class>/*.png}
 * (PNG, JPEG, BMP, GIF: whatever {@link ImageIO} decodes). Classes are the sub-folder names in
 * sorted order (label = position), or, for a test split, the training split's class list given by
 * the caller (a folder of another class is an error); files are read in sorted order. Images are
 * decoded to RGB (3 channels) or grey (1 channel). With a target size every image is resized to it
 * (bilinear); without one all images must have the size of the first, else the odd file is named in
 * the error.
 */
public final class ImageFolderFormat {

    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private ImageFolderFormat() {}

    /**
     * Reads a folder; its sub-folders are the classes.
     *
     * @param root the folder holding one sub-folder per class
     * @param name the set name
     * @param channels 3 (RGB) or 1 (grey)
     * @param height target height, or 0 to require equal sizes
     * @param width target width, or 0 to require equal sizes
     * @return the set; mean/std computed from its pixels
     * @throws DataSetException when the folder has no classes or images, or an image cannot be
     *     decoded or has the wrong size
     */
    public static ImageSet read(Path root, String name, int channels, int height, int width) {
        return read(root, name, channels, height, width, height > 0 && width > 0, null);
    }

    /**
     * Reads a folder against a given class list (the test split of a training split): every
     * sub-folder must name one of the classes, and an image's label is the position of its folder's
     * name in the list, whatever folders are present. Classes without a folder are allowed (the
     * caller warns).
     *
     * @param root the folder holding one sub-folder per class
     * @param name the set name
     * @param channels 3 (RGB) or 1 (grey)
     * @param height the height, or 0 to take the first image's
     * @param width the width, or 0 to take the first image's
     * @param resize resize every image to height x width; else every image must have that size
     * @param classNames the classes by label, or {@code null} for the sorted sub-folder names
     * @return the set; mean/std computed from its pixels
     * @throws DataSetException when a sub-folder is not a known class, the folder has no classes or
     *     images, or an image cannot be decoded or has the wrong size
     */
    public static ImageSet read(
            Path root,
            String name,
            int channels,
            int height,
            int width,
            boolean resize,
            List<String> classNames) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (!Files.isDirectory(root)) {
            throw new DataSetException(
                    root, "folder not found; an image folder holds one sub-folder per class");
        }
        List<Path> classDirs = list(root, Files::isDirectory);
        if (classDirs.isEmpty()) {
            throw new DataSetException(
                    root,
                    "no class sub-folders; put the images of class k in " + root + "/<k-name>/");
        }
        List<String> classes = classNames;
        if (classes == null) {
            classes = classDirs.stream().map(d -> d.getFileName().toString()).toList();
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        for (Path dir : classDirs) {
            String cls = dir.getFileName().toString();
            int k = classes.indexOf(cls);
            if (k < 0) {
                throw new DataSetException(
                        dir,
                        "class folder '"
                                + cls
                                + "' is not one of the "
                                + classes.size()
                                + " classes of the training split "
                                + shortList(classes)
                                + "; the class list comes from the training folders: rename"
                                + " it to a training class, add that class to the training"
                                + " split, or remove the folder");
            }
            for (Path f : list(dir, ImageFolderFormat::isImage)) {
                files.add(f);
                labelList.add(k);
            }
        }
        List<String> classNamesOut = classes;
        if (files.isEmpty()) {
            throw new DataSetException(root, "no images (" + EXTENSIONS + ") in the class folders");
        }
        int h = height;
        int w = width;
        byte[] pixels = null;
        int[] labels = new int[files.size()];
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            BufferedImage img = decode(f);
            if (h <= 0 || w <= 0) {
                h = img.getHeight();
                w = img.getWidth();
            }
            if (img.getHeight() != h || img.getWidth() != w) {
                if (!resize) {
                    throw new DataSetException(
                            f,
                            "is "
                                    + img.getWidth()
                                    + "x"
                                    + img.getHeight()
                                    + " but "
                                    + (height > 0
                                            ? "the training images are "
                                            : "the first image is ")
                                    + w
                                    + "x"
                                    + h
                                    + "; resize the images or give a size"
                                    + " (data.options.size, e.g. 32 or \"32x32\")");
                }
                img = resize(img, w, h);
            }
            if (pixels == null) {
                pixels = new byte[files.size() * channels * h * w];
            }
            int base = i * channels * h * w;
            if (isGrey(img)) {
                // the stored grey values: getRGB would convert them from Java's linear grey colour
                // space to sRGB (a stored 100 reads as 168)
                java.awt.image.Raster r = img.getRaster();
                int shift = img.getColorModel().getComponentSize(0) - 8;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        byte v = (byte) (r.getSample(x, y, 0) >> Math.max(shift, 0));
                        for (int c = 0; c < channels; c++) {
                            pixels[base + c * h * w + y * w + x] = v;
                        }
                    }
                }
                labels[i] = labelList.get(i);
                continue;
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    int r = (rgb >> 16) & 0xFF;
                    int g = (rgb >> 8) & 0xFF;
                    int b = rgb & 0xFF;
                    if (channels == 3) {
                        pixels[base + y * w + x] = (byte) r;
                        pixels[base + h * w + y * w + x] = (byte) g;
                        pixels[base + 2 * h * w + y * w + x] = (byte) b;
                    } else {
                        // ITU-R BT.601 luma, as PIL's convert("L")
                        int l = (r * 299 + g * 587 + b * 114 + 500) / 1000;
                        pixels[base + y * w + x] = (byte) l;
                    }
                }
            }
            labels[i] = labelList.get(i);
        }
        return ImageSet.builder()
                .setName(name)
                .setShape(channels, h, w)
                .setNumClasses(classNamesOut.size())
                .setData(pixels, labels)
                .optClassNames(classNamesOut)
                .build();
    }

    private static String shortList(List<String> names) {
        return names.size() <= 10
                ? names.toString()
                : names.subList(0, 10).toString().replace("]", ", ...]");
    }

    private static BufferedImage decode(Path f) {
        try {
            BufferedImage img = ImageIO.read(f.toFile());
            if (img == null) {
                throw new DataSetException(f, "not a decodable image (no ImageIO reader)");
            }
            return img;
        } catch (IOException e) {
            throw new DataSetException(f, "cannot decode: " + e.getMessage(), e);
        }
    }

    /** A one-band grey image (8 or 16 bits), e.g. a grey PNG. */
    private static boolean isGrey(BufferedImage img) {
        return img.getRaster().getNumBands() == 1
                && img.getColorModel().getColorSpace().getType()
                        == java.awt.color.ColorSpace.TYPE_GRAY;
    }

    private static BufferedImage resize(BufferedImage img, int w, int h) {
        BufferedImage out =
                new BufferedImage(
                        w,
                        h,
                        isGrey(img) ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(
                RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> keep) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(keep).sorted().toList();
        } catch (IOException e) {
            throw new DataSetException(dir, "cannot list: " + e.getMessage(), e);
        }
    }
}
