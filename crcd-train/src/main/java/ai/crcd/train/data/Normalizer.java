package ai.crcd.train.data;

/**
 * Per-channel normalisation {@code (pixel / 255 - mean[c]) / std[c]} as a lookup table of the 256
 * possible values per channel, computed once in float32. Zero padding (pixel 0 before
 * normalisation) maps to {@code -mean[c] / std[c]}.
 */
public final class Normalizer {

    private final int channels;
    private final float[] table; // (C, 256)

    /**
     * Creates a normaliser.
     *
     * @param mean (C) means of pixel/255
     * @param std (C) standard deviations of pixel/255, all > 0
     */
    public Normalizer(float[] mean, float[] std) {
        if (mean.length != std.length) {
            throw new IllegalArgumentException(
                    "mean has " + mean.length + " channels, std " + std.length);
        }
        channels = mean.length;
        table = new float[channels * 256];
        for (int c = 0; c < channels; c++) {
            for (int v = 0; v < 256; v++) {
                table[c * 256 + v] = (v / 255f - mean[c]) / std[c];
            }
        }
    }

    /**
     * Creates the normaliser of a data set (its own mean and std).
     *
     * @param set the data set
     * @return the normaliser
     */
    public static Normalizer of(ImageSet set) {
        return new Normalizer(set.mean(), set.std());
    }

    /**
     * Returns the normalised value of a pixel.
     *
     * @param channel the channel
     * @param value the pixel value, 0..255
     * @return {@code (value / 255 - mean) / std}
     */
    public float apply(int channel, int value) {
        return table[channel * 256 + value];
    }

    /** Offset of a channel's 256 entries in {@link #table()}. */
    int offset(int channel) {
        return channel * 256;
    }

    /** The (C, 256) lookup table, flattened. */
    float[] table() {
        return table;
    }

    /**
     * Returns the number of channels.
     *
     * @return C
     */
    public int channels() {
        return channels;
    }
}
