package ai.crcd.train.model;

import ai.crcd.train.Catalog;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageNetLoader;
import ai.crcd.train.data.ImageNetTransform;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a model folder needs besides its weights to be loaded and used on its own: the architecture,
 * class count and names, input channels and size, and the normalisation {@code (pixel / 255 -
 * mean[c]) / std[c]} the network was trained with; plus where the weights came from (run kind,
 * epoch, test top-1). Stored as the keys of the folder's {@code serving.properties} (DJL's own
 * model-folder manifest, see {@link ModelFolder}).
 *
 * @param architecture the model name, e.g. {@code resnet8} (crcd-models' {@code Models} name)
 * @param kind {@code train} (a teacher or vanilla network) or {@code distill} (a student)
 * @param numClasses C
 * @param inChannels input channels (1 grey, 3 RGB)
 * @param height input height
 * @param width input width
 * @param mean (inChannels) means of pixel/255
 * @param std (inChannels) standard deviations of pixel/255
 * @param classNames the class names by label (C of them)
 * @param epoch the epoch the weights are from (1-based), 0 if unknown
 * @param testTop1 the test top-1 (%) measured at that epoch, NaN if unknown
 */
public record ModelInfo(
        String architecture,
        String kind,
        int numClasses,
        int inChannels,
        int height,
        int width,
        float[] mean,
        float[] std,
        List<String> classNames,
        int epoch,
        double testTop1) {

    /** Version of the folder layout, key {@code crcd.format}. */
    public static final int FORMAT = 1;

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException naming the first bad field
     */
    public ModelInfo {
        if (architecture == null || architecture.isBlank()) {
            throw new IllegalArgumentException(
                    "architecture: a model name, got '" + architecture + "'");
        }
        if (numClasses < 1 || inChannels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(
                    "num_classes, in_channels, height, width must be >= 1, got "
                            + numClasses
                            + ", "
                            + inChannels
                            + ", "
                            + height
                            + ", "
                            + width);
        }
        if (mean.length != inChannels || std.length != inChannels) {
            throw new IllegalArgumentException(
                    "mean and std need "
                            + inChannels
                            + " values (one per input channel), got "
                            + mean.length
                            + " and "
                            + std.length);
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException(
                        "std: every value must be > 0, got " + Arrays.toString(std));
            }
        }
        if (classNames.size() != numClasses) {
            throw new IllegalArgumentException(
                    "class names: " + numClasses + " needed, got " + classNames.size());
        }
        mean = mean.clone();
        std = std.clone();
        classNames = List.copyOf(classNames);
    }

    /**
     * Describes the network a run trains on one data split: the split's shape, class names and
     * normalisation (mean 0 / std 1 when the loader does not say, e.g. a test fixture).
     *
     * @param architecture the model name
     * @param kind the run kind
     * @param split the run's training split
     * @return the info (epoch 0, top-1 NaN)
     */
    public static ModelInfo forSplit(String architecture, String kind, Catalog.Split split) {
        int c = split.channels();
        float[] mean = new float[c];
        float[] std = new float[c];
        Arrays.fill(std, 1f);
        List<String> names = new ArrayList<>();
        if (split.loader() instanceof ImageLoader il) {
            mean = il.data().mean();
            std = il.data().std();
            names.addAll(il.data().classNames());
        } else if (split.loader() instanceof ImageNetLoader il) {
            mean = ImageNetTransform.MEAN.clone();
            std = ImageNetTransform.STD.clone();
            names.addAll(il.folder().classNames());
        }
        if (names.size() != split.numClasses()) {
            names.clear();
            for (int i = 0; i < split.numClasses(); i++) {
                names.add(Integer.toString(i));
            }
        }
        return new ModelInfo(
                architecture,
                kind,
                split.numClasses(),
                c,
                split.height(),
                split.width(),
                mean,
                std,
                names,
                0,
                Double.NaN);
    }

    /**
     * Returns this info for the weights of another epoch.
     *
     * @param newEpoch the epoch (1-based)
     * @param top1 the test top-1 (%) at that epoch
     * @return the info
     */
    public ModelInfo atEpoch(int newEpoch, double top1) {
        return new ModelInfo(
                architecture,
                kind,
                numClasses,
                inChannels,
                height,
                width,
                mean,
                std,
                classNames,
                newEpoch,
                top1);
    }

    /**
     * Returns the keys written to {@code serving.properties} (class names go to {@code
     * synset.txt}).
     *
     * @return key to value, in a fixed order
     */
    public Map<String, String> toProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("crcd.format", Integer.toString(FORMAT));
        p.put("architecture", architecture);
        p.put("kind", kind == null ? "" : kind);
        p.put("num_classes", Integer.toString(numClasses));
        p.put("in_channels", Integer.toString(inChannels));
        p.put("height", Integer.toString(height));
        p.put("width", Integer.toString(width));
        p.put("mean", join(mean));
        p.put("std", join(std));
        p.put("epoch", Integer.toString(epoch));
        p.put("test_top1", Double.toString(testTop1));
        return p;
    }

    /**
     * Reads the keys of {@link #toProperties()}, e.g. the arguments DJL passes to a block or
     * translator factory.
     *
     * @param props the keys
     * @param classNames the class names ({@code synset.txt}); null or empty for "0".."C-1"
     * @param where the file, for messages
     * @return the info
     * @throws IllegalArgumentException naming the file and the missing or bad key
     */
    public static ModelInfo fromProperties(
            Map<String, ?> props, List<String> classNames, String where) {
        try {
            int classes = integer(props, "num_classes");
            int channels = integer(props, "in_channels");
            List<String> names = new ArrayList<>();
            if (classNames != null && !classNames.isEmpty()) {
                names.addAll(classNames);
            } else {
                for (int i = 0; i < classes; i++) {
                    names.add(Integer.toString(i));
                }
            }
            Object top1 = props.get("test_top1");
            Object epoch = props.get("epoch");
            return new ModelInfo(
                    string(props, "architecture"),
                    props.get("kind") == null ? "" : props.get("kind").toString(),
                    classes,
                    channels,
                    integer(props, "height"),
                    integer(props, "width"),
                    floats(props, "mean"),
                    floats(props, "std"),
                    names,
                    epoch == null ? 0 : Integer.parseInt(epoch.toString().trim()),
                    top1 == null ? Double.NaN : Double.parseDouble(top1.toString().trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static String string(Map<String, ?> p, String key) {
        Object v = p.get(key);
        if (v == null || v.toString().isBlank()) {
            throw new IllegalArgumentException(
                    "no key '" + key + "' (not a crcd model folder, or written by another tool)");
        }
        return v.toString().trim();
    }

    private static int integer(Map<String, ?> p, String key) {
        String v = string(p, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "key '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    private static float[] floats(Map<String, ?> p, String key) {
        String[] parts = string(p, key).split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "key '"
                                + key
                                + "' must be comma-separated numbers, got '"
                                + p.get(key)
                                + "'");
            }
        }
        return out;
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(Float.toString(v[i]));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelInfo m
                && toProperties().equals(m.toProperties())
                && classNames.equals(m.classNames);
    }

    @Override
    public int hashCode() {
        return toProperties().hashCode() * 31 + classNames.hashCode();
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "%s (%d classes, %dx%dx%d input, epoch %d)",
                architecture,
                numClasses,
                inChannels,
                height,
                width,
                epoch);
    }
}
