package ai.crcd.train.data;

import java.util.SplittableRandom;

/**
 * Training augmentation on uint8 CHW images: a random crop of the original size out of the image
 * padded by {@code padding} zero pixels on every side, then a horizontal flip with probability 1/2
 * (when enabled), then per-channel normalisation. This is the CIFAR recipe (torchvision {@code
 * RandomCrop(32, padding=4)}, {@code RandomHorizontalFlip()}, {@code Normalize}); padding is
 * applied before normalisation, so padded pixels come out as {@code -mean[c] / std[c]}. {@link
 * #none()} is evaluation: normalisation only.
 *
 * <p>Instances are immutable and thread-safe; randomness comes from the caller's generator, one
 * {@link #draw(SplittableRandom)} per sample, so a seeded generator gives identical output.
 */
public final class Augmentation {

    private static final Augmentation NONE = new Augmentation(0, false);

    private final int padding;
    private final boolean flip;

    private Augmentation(int padding, boolean flip) {
        this.padding = padding;
        this.flip = flip;
    }

    /**
     * Returns an augmentation.
     *
     * @param padding zero padding on every side for the random crop, 0 for no crop
     * @param flip whether to flip horizontally with probability 1/2
     * @return the augmentation
     */
    public static Augmentation of(int padding, boolean flip) {
        if (padding < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got " + padding);
        }
        return padding == 0 && !flip ? NONE : new Augmentation(padding, flip);
    }

    /**
     * Returns the identity (evaluation: normalisation only).
     *
     * @return the identity augmentation
     */
    public static Augmentation none() {
        return NONE;
    }

    /**
     * Returns the standard training augmentation for a data set: crop with 4 px padding for images
     * of 32 px or more, 2 px below (28x28 Fashion-MNIST/MNIST: 4 px would move strokes out of the
     * frame relatively more); horizontal flip except for MNIST (digits are not mirror-symmetric;
     * clothing is, nearly).
     *
     * @param set the data set
     * @return the augmentation
     */
    public static Augmentation standard(ImageSet set) {
        int pad = Math.min(set.height(), set.width()) >= 32 ? 4 : 2;
        boolean flip = !set.name().startsWith("mnist");
        return of(pad, flip);
    }

    /**
     * Returns the padding.
     *
     * @return pixels of zero padding on each side
     */
    public int padding() {
        return padding;
    }

    /**
     * Returns whether horizontal flips are drawn.
     *
     * @return {@code true} when flipping
     */
    public boolean flip() {
        return flip;
    }

    /**
     * Returns whether this is the identity.
     *
     * @return {@code true} for {@link #none()}
     */
    public boolean isIdentity() {
        return padding == 0 && !flip;
    }

    /**
     * Draws the random parameters of one sample: crop offsets in {@code 0..2*padding} (in the
     * padded image) and the flip. Consumes a fixed amount of randomness per call.
     *
     * @param rnd the generator
     * @return the parameters
     */
    public Draw draw(SplittableRandom rnd) {
        int span = 2 * padding + 1;
        int dy = padding == 0 ? 0 : rnd.nextInt(span);
        int dx = padding == 0 ? 0 : rnd.nextInt(span);
        boolean f = flip && rnd.nextBoolean();
        return new Draw(dy, dx, f);
    }

    /**
     * Writes one augmented, normalised image: {@code out[c][y][x] = norm(padded[c][y + offsetY][ x'
     * + offsetX])} with {@code x' = W-1-x} when flipped, else {@code x}, where {@code padded} is
     * the image with {@code padding} zeros on every side.
     *
     * @param set the data set
     * @param sample the sample index
     * @param draw the parameters from {@link #draw(SplittableRandom)}
     * @param norm the normaliser
     * @param dst the output, (C, H, W) float32 written at {@code dstOffset}
     * @param dstOffset where the image starts in {@code dst}
     */
    public void apply(
            ImageSet set, int sample, Draw draw, Normalizer norm, float[] dst, int dstOffset) {
        int ch = set.channels();
        int h = set.height();
        int w = set.width();
        byte[] px = set.pixels();
        float[] table = norm.table();
        int src0 = sample * ch * h * w;
        int sy = draw.offsetY() - padding; // source row of output row 0
        int sx = draw.offsetX() - padding; // source column of (unflipped) output column 0
        boolean f = draw.flip();
        int o = dstOffset;
        for (int c = 0; c < ch; c++) {
            int t = norm.offset(c);
            float pad = table[t];
            int plane = src0 + c * h * w;
            for (int y = 0; y < h; y++) {
                int yy = y + sy;
                if (yy < 0 || yy >= h) {
                    java.util.Arrays.fill(dst, o, o + w, pad);
                    o += w;
                    continue;
                }
                int row = plane + yy * w;
                if (!f && sx == 0) {
                    for (int x = 0; x < w; x++) {
                        dst[o++] = table[t + (px[row + x] & 0xFF)];
                    }
                    continue;
                }
                for (int x = 0; x < w; x++) {
                    int xx = (f ? w - 1 - x : x) + sx;
                    dst[o++] = xx < 0 || xx >= w ? pad : table[t + (px[row + xx] & 0xFF)];
                }
            }
        }
    }

    @Override
    public String toString() {
        return isIdentity() ? "none" : "crop(pad=" + padding + ")" + (flip ? "+flip" : "");
    }

    /**
     * The random parameters of one sample.
     *
     * @param offsetY top row of the crop in the padded image, {@code 0..2*padding}
     * @param offsetX left column of the crop in the padded image, {@code 0..2*padding}
     * @param flip whether the crop is mirrored left-right
     */
    public record Draw(int offsetY, int offsetX, boolean flip) {}
}
