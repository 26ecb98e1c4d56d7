package ai.crcd.train.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The file index of one split of an ImageNet-style folder ({@code root/train/<wnid>/*.JPEG}, {@code
 * root/val/<wnid>/*.JPEG}): which file is sample i and its label. Only names are held in memory
 * (about 100 bytes a sample, ~130 MB for ImageNet's 1.28 M training images); the pixels are read by
 * {@link ImageNetLoader} batch by batch.
 *
 * <p>Classes are the training split's sub-folder names in sorted order (label = position, as
 * torchvision's {@code ImageFolder}); a validation split is read against that list: a sub-folder of
 * an unknown class is an error, a class without validation images is allowed (the caller warns).
 * Files ({@code .jpeg}, {@code .jpg}, {@code .png}, any case) are taken in sorted order within a
 * class; sample indices run class by class.
 */
public final class ImageNetFolder {

    private static final List<String> EXTENSIONS = List.of(".jpeg", ".jpg", ".png");

    private final String name;
    private final List<String> classNames;
    private final Path[] classDirs;
    private final String[] files;
    private final int[] labels;

    private ImageNetFolder(
            String name, List<String> classNames, Path[] classDirs, String[] files, int[] labels) {
        this.name = name;
        this.classNames = classNames;
        this.classDirs = classDirs;
        this.files = files;
        this.labels = labels;
    }

    /**
     * Indexes a split folder.
     *
     * @param dir the split folder holding one sub-folder per class
     * @param name the split's name for messages, e.g. {@code imagenet-folder/train}
     * @param classNames the class list to read against (a validation split), or {@code null} to
     *     take the sorted sub-folder names (the training split)
     * @return the index
     * @throws DataSetException when the folder is missing or has no classes, a class folder of the
     *     training split has no images, or a validation class is not a training class
     */
    public static ImageNetFolder scan(Path dir, String name, List<String> classNames) {
        if (!Files.isDirectory(dir)) {
            throw new DataSetException(
                    dir,
                    "folder not found; an ImageNet folder holds train/<class>/*.JPEG and"
                            + " val/<class>/*.JPEG (see docs/imagenet.md for the val/ layout)");
        }
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            s.forEach(dirs::add);
        } catch (IOException e) {
            throw new DataSetException(dir, "cannot list the folder (" + e.getMessage() + ")", e);
        }
        dirs.sort(null);
        if (dirs.isEmpty()) {
            throw new DataSetException(
                    dir, "no class sub-folders; put the images in " + dir + "/<class>/*.JPEG");
        }
        List<String> classes;
        Map<String, Integer> labelOf = new HashMap<>();
        if (classNames == null) {
            List<String> found = new ArrayList<>();
            for (Path d : dirs) {
                found.add(d.getFileName().toString());
            }
            classes = Collections.unmodifiableList(found);
        } else {
            classes = List.copyOf(classNames);
        }
        for (int k = 0; k < classes.size(); k++) {
            labelOf.put(classes.get(k), k);
        }
        Path[] classDirs = new Path[classes.size()];
        List<String> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path d : dirs) {
            String cls = d.getFileName().toString();
            Integer label = labelOf.get(cls);
            if (label == null) {
                throw new DataSetException(
                        d,
                        "class '"
                                + cls
                                + "' is not a class of the training split ("
                                + classes.size()
                                + " classes from train/); remove the folder or add it to train/");
            }
            classDirs[label] = d;
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
                for (Path f : s) {
                    String n = f.getFileName().toString();
                    String lower = n.toLowerCase(Locale.ROOT);
                    if (EXTENSIONS.stream().anyMatch(lower::endsWith) && Files.isRegularFile(f)) {
                        names.add(n);
                    }
                }
            } catch (IOException e) {
                throw new DataSetException(d, "cannot list the folder (" + e.getMessage() + ")", e);
            }
            if (names.isEmpty() && classNames == null) {
                throw new DataSetException(
                        d,
                        "no images (.JPEG, .jpg, .png) in this class folder; add images or"
                                + " remove the folder");
            }
            names.sort(null);
            for (String n : names) {
                files.add(n);
                labels.add(label);
            }
        }
        if (files.isEmpty()) {
            throw new DataSetException(dir, "no images (.JPEG, .jpg, .png) in the class folders");
        }
        int[] l = new int[labels.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels.get(i);
        }
        return new ImageNetFolder(name, classes, classDirs, files.toArray(new String[0]), l);
    }

    /**
     * Keeps the first {@code n} samples of every class (in file order).
     *
     * @param n samples per class, at least 1
     * @return the smaller index
     */
    public ImageNetFolder firstPerClass(int n) {
        int[] seen = new int[classNames.size()];
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            if (seen[labels[i]]++ < n) {
                keep.add(i);
            }
        }
        String[] f = new String[keep.size()];
        int[] l = new int[keep.size()];
        for (int j = 0; j < f.length; j++) {
            f[j] = files[keep.get(j)];
            l[j] = labels[keep.get(j)];
        }
        return new ImageNetFolder(name, classNames, classDirs, f, l);
    }

    /**
     * Returns the split's name.
     *
     * @return e.g. {@code imagenet-folder/train}
     */
    public String name() {
        return name;
    }

    /**
     * Returns the class names by label.
     *
     * @return the training split's sorted sub-folder names
     */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * Returns the number of classes.
     *
     * @return C
     */
    public int numClasses() {
        return classNames.size();
    }

    /**
     * Returns the number of samples.
     *
     * @return N
     */
    public int size() {
        return files.length;
    }

    /**
     * Returns the file of a sample.
     *
     * @param i the sample index
     * @return the image file
     */
    public Path file(int i) {
        return classDirs[labels[i]].resolve(files[i]);
    }

    /**
     * Returns the label of a sample.
     *
     * @param i the sample index
     * @return its class
     */
    public int label(int i) {
        return labels[i];
    }

    /**
     * Returns every label, by sample index.
     *
     * @return a copy, (N)
     */
    public int[] labels() {
        return Arrays.copyOf(labels, labels.length);
    }
}
