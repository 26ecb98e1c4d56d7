package ai.crcd.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * An in-memory labelled image set. Pixels are held as uint8 (one byte per value, 0..255) in CHW
 * order per image, images one after the other: the value of channel {@code c}, row {@code y},
 * column {@code x} of sample {@code i} is {@code pixels()[((i * C + c) * H + y) * W + x] & 0xFF}.
 * 50,000 CIFAR images take 150 MB this way (600 MB as float32).
 *
 * <p>Sample indices are positions {@code 0..size()-1} in this set; loaders report them as the
 * sample index of each batch element (what CRD/CRCD memory banks are keyed by). A {@link
 * #subset(int[]) subset} renumbers its samples from 0; {@link #sourceIndices()} maps them back to
 * the positions in the file the set was read from.
 *
 * <p>Each set carries the per-channel mean and standard deviation (of pixel/255) used to normalise
 * it: {@code (pixel / 255 - mean[c]) / std[c]}.
 */
public final class ImageSet {

    private final String name;
    private final int channels;
    private final int height;
    private final int width;
    private final int numClasses;
    private final byte[] pixels;
    private final int[] labels;
    private final int[] sourceIndices;
    private final float[] mean;
    private final float[] std;
    private final List<String> classNames;

    private ImageSet(Builder b) {
        this.name = b.name;
        this.channels = b.channels;
        this.height = b.height;
        this.width = b.width;
        this.numClasses = b.numClasses;
        this.pixels = b.pixels;
        this.labels = b.labels;
        this.mean = b.mean.clone();
        this.std = b.std.clone();
        this.sourceIndices = b.sourceIndices;
        this.classNames =
                b.classNames == null
                        ? Collections.emptyList()
                        : Collections.unmodifiableList(new ArrayList<>(b.classNames));
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the data set name, e.g. {@code cifar100/train}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the number of samples N.
     *
     * @return N
     */
    public int size() {
        return labels.length;
    }

    /**
     * Returns the number of channels C (3 for RGB, 1 for grey).
     *
     * @return C
     */
    public int channels() {
        return channels;
    }

    /**
     * Returns the image height H.
     *
     * @return H
     */
    public int height() {
        return height;
    }

    /**
     * Returns the image width W.
     *
     * @return W
     */
    public int width() {
        return width;
    }

    /**
     * Returns the number of values per image, C*H*W.
     *
     * @return C*H*W
     */
    public int imageSize() {
        return channels * height * width;
    }

    /**
     * Returns the number of classes; labels are in {@code 0..numClasses()-1}.
     *
     * @return the class count
     */
    public int numClasses() {
        return numClasses;
    }

    /**
     * Returns the labels by sample index. This is the backing array: do not modify it.
     *
     * @return (N) labels
     */
    public int[] labels() {
        return labels;
    }

    /**
     * Returns the label of one sample.
     *
     * @param index the sample index
     * @return the label
     */
    public int label(int index) {
        return labels[index];
    }

    /**
     * Returns the pixels, (N, C, H, W) uint8 flattened. This is the backing array: do not modify
     * it.
     *
     * @return N*C*H*W bytes, read unsigned
     */
    public byte[] pixels() {
        return pixels;
    }

    /**
     * Returns one pixel value.
     *
     * @param index the sample index
     * @param c the channel
     * @param y the row
     * @param x the column
     * @return the value, 0..255
     */
    public int pixel(int index, int c, int y, int x) {
        return pixels[((index * channels + c) * height + y) * width + x] & 0xFF;
    }

    /**
     * Returns, for each sample, its position in the file the set was read from (identity for a set
     * read whole).
     *
     * @return (N) source positions; a copy
     */
    public int[] sourceIndices() {
        return sourceIndices.clone();
    }

    /**
     * Returns the per-channel mean of pixel/255 used for normalisation.
     *
     * @return (C) means; a copy
     */
    public float[] mean() {
        return mean.clone();
    }

    /**
     * Returns the per-channel standard deviation of pixel/255 used for normalisation.
     *
     * @return (C) standard deviations; a copy
     */
    public float[] std() {
        return std.clone();
    }

    /**
     * Returns the class names by label, or an empty list when the format has none.
     *
     * @return the names
     */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * Returns a set holding the given samples in the given order, renumbered from 0 (sample {@code
     * k} of the result is sample {@code indices[k]} of this set). Pixels are copied; mean and std
     * are kept.
     *
     * @param indices sample indices of this set; duplicates are allowed
     * @return the subset
     */
    public ImageSet subset(int[] indices) {
        int d = imageSize();
        byte[] px = new byte[indices.length * d];
        int[] lab = new int[indices.length];
        int[] src = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= size()) {
                throw new IllegalArgumentException(
                        "subset of " + name + ": index " + i + " is outside 0.." + (size() - 1));
            }
            System.arraycopy(pixels, i * d, px, k * d, d);
            lab[k] = labels[i];
            src[k] = sourceIndices[i];
        }
        return toBuilder().setData(px, lab).optSourceIndices(src).build();
    }

    /**
     * Returns the first {@code perClass} samples of every class, in their original order (for quick
     * runs). Classes with fewer samples contribute all they have.
     *
     * @param perClass the number of samples per class, at least 1
     * @return the subset
     */
    public ImageSet firstPerClass(int perClass) {
        if (perClass < 1) {
            throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        }
        int[] taken = new int[numClasses];
        int[] keep = new int[size()];
        int n = 0;
        for (int i = 0; i < size(); i++) {
            if (taken[labels[i]]++ < perClass) {
                keep[n++] = i;
            }
        }
        return subset(Arrays.copyOf(keep, n));
    }

    /**
     * Returns this set with other normalisation constants (pixels shared, not copied).
     *
     * @param newMean (C) means of pixel/255
     * @param newStd (C) standard deviations of pixel/255
     * @return the set
     */
    public ImageSet withNormalization(float[] newMean, float[] newStd) {
        return toBuilder().optNormalization(newMean, newStd).build();
    }

    /**
     * Computes the per-channel mean and (population) standard deviation of pixel/255 over all
     * samples, in double precision.
     *
     * @return {mean (C), std (C)}
     */
    public float[][] computeStats() {
        return computeStats(pixels, channels, height * width);
    }

    static float[][] computeStats(byte[] pixels, int channels, int plane) {
        double[] sum = new double[channels];
        double[] sq = new double[channels];
        int d = channels * plane;
        int n = d == 0 ? 0 : pixels.length / d;
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                long s = 0;
                long s2 = 0;
                int off = i * d + c * plane;
                for (int p = 0; p < plane; p++) {
                    int v = pixels[off + p] & 0xFF;
                    s += v;
                    s2 += (long) v * v;
                }
                sum[c] += s;
                sq[c] += s2;
            }
        }
        float[] mean = new float[channels];
        float[] std = new float[channels];
        double count = (double) n * plane;
        for (int c = 0; c < channels; c++) {
            double m = sum[c] / count;
            double var = sq[c] / count - m * m;
            mean[c] = (float) (m / 255.0);
            std[c] = (float) (Math.sqrt(Math.max(var, 0)) / 255.0);
        }
        return new float[][] {mean, std};
    }

    private Builder toBuilder() {
        Builder b =
                builder()
                        .setName(name)
                        .setShape(channels, height, width)
                        .setNumClasses(numClasses)
                        .setData(pixels, labels)
                        .optNormalization(mean, std)
                        .optSourceIndices(sourceIndices);
        b.classNames = classNames;
        return b;
    }

    @Override
    public String toString() {
        return name
                + " ("
                + size()
                + " x "
                + channels
                + "x"
                + height
                + "x"
                + width
                + ", "
                + numClasses
                + " classes)";
    }

    /** Builder for {@link ImageSet}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private String name;
        private int channels;
        private int height;
        private int width;
        private int numClasses;
        private byte[] pixels;
        private int[] labels;
        private int[] sourceIndices;
        private float[] mean;
        private float[] std;
        private List<String> classNames;

        Builder() {}

        /**
         * Sets the name.
         *
         * @param name e.g. {@code cifar100/train}
         * @return this builder
         */
        public Builder setName(String name) {
            this.name = name;
            return this;
        }

        /**
         * Sets the image shape.
         *
         * @param channels C
         * @param height H
         * @param width W
         * @return this builder
         */
        public Builder setShape(int channels, int height, int width) {
            this.channels = channels;
            this.height = height;
            this.width = width;
            return this;
        }

        /**
         * Sets the number of classes.
         *
         * @param numClasses labels must be in {@code 0..numClasses-1}
         * @return this builder
         */
        public Builder setNumClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Sets pixels and labels (not copied).
         *
         * @param pixels (N, C, H, W) uint8 flattened
         * @param labels (N) labels
         * @return this builder
         */
        public Builder setData(byte[] pixels, int[] labels) {
            this.pixels = pixels;
            this.labels = labels;
            return this;
        }

        /**
         * Sets the normalisation constants; default: computed from the data.
         *
         * @param mean (C) means of pixel/255
         * @param std (C) standard deviations of pixel/255
         * @return this builder
         */
        public Builder optNormalization(float[] mean, float[] std) {
            this.mean = mean;
            this.std = std;
            return this;
        }

        /**
         * Sets the positions of the samples in their source file; default identity.
         *
         * @param sourceIndices (N) positions
         * @return this builder
         */
        public Builder optSourceIndices(int[] sourceIndices) {
            this.sourceIndices = sourceIndices;
            return this;
        }

        /**
         * Sets the class names by label.
         *
         * @param classNames the names, {@code numClasses} of them
         * @return this builder
         */
        public Builder optClassNames(List<String> classNames) {
            this.classNames = classNames;
            return this;
        }

        /**
         * Validates and builds the set.
         *
         * @return the set
         * @throws IllegalArgumentException when sizes disagree or a label is out of range
         */
        public ImageSet build() {
            if (name == null || pixels == null || labels == null) {
                throw new IllegalArgumentException("ImageSet needs a name, pixels and labels");
            }
            if (channels < 1 || height < 1 || width < 1 || numClasses < 1) {
                throw new IllegalArgumentException(
                        name
                                + ": shape "
                                + channels
                                + "x"
                                + height
                                + "x"
                                + width
                                + " and "
                                + numClasses
                                + " classes must all be >= 1");
            }
            long d = (long) channels * height * width;
            if (pixels.length != d * labels.length) {
                throw new IllegalArgumentException(
                        name
                                + ": "
                                + pixels.length
                                + " pixel bytes for "
                                + labels.length
                                + " images of "
                                + d
                                + " values each (expected "
                                + d * labels.length
                                + ")");
            }
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new IllegalArgumentException(
                            name
                                    + ": label "
                                    + labels[i]
                                    + " of sample "
                                    + i
                                    + " is outside 0.."
                                    + (numClasses - 1));
                }
            }
            if (sourceIndices == null) {
                sourceIndices = new int[labels.length];
                Arrays.setAll(sourceIndices, i -> i);
            } else if (sourceIndices.length != labels.length) {
                throw new IllegalArgumentException(name + ": sourceIndices length mismatch");
            }
            if (mean == null || std == null) {
                float[][] stats = computeStats(pixels, channels, height * width);
                mean = stats[0];
                std = stats[1];
                for (int c = 0; c < channels; c++) {
                    if (!(std[c] > 0)) {
                        std[c] = 1f; // constant channel: do not divide by zero
                    }
                }
            }
            if (mean.length != channels || std.length != channels) {
                throw new IllegalArgumentException(
                        name
                                + ": mean/std need "
                                + channels
                                + " values (one per channel), got "
                                + mean.length
                                + "/"
                                + std.length);
            }
            for (float s : std) {
                if (!(s > 0)) {
                    throw new IllegalArgumentException(name + ": std must be > 0, got " + s);
                }
            }
            if (classNames != null && !classNames.isEmpty() && classNames.size() != numClasses) {
                throw new IllegalArgumentException(
                        name
                                + ": "
                                + classNames.size()
                                + " class names for "
                                + numClasses
                                + " classes");
            }
            return new ImageSet(this);
        }
    }
}
