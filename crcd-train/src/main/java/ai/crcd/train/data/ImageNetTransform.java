package ai.crcd.train.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * The standard ImageNet preprocessing of torchvision, on the host: decode (RGB), then for training
 * {@code RandomResizedCrop(crop, scale=(0.08, 1), ratio=(3/4, 4/3))} + {@code
 * RandomHorizontalFlip()}, for evaluation {@code Resize(resize)} (shorter side) + {@code
 * CenterCrop(crop)}; the result is a uint8 (3, crop, crop) image, normalised later with {@link
 * #MEAN}/{@link #STD} ({@link ImageNetLoader}, on the batch's device).
 *
 * <p>Decoding uses {@link ImageIO} (the JDK's libjpeg-based JPEG reader; DJL's default {@code
 * ImageFactory} is a wrapper around the same reader, and its resize/crop would run as native ops
 * per image). Resizing is PIL's bilinear filter as torchvision uses it on PIL images: a separable
 * triangle filter whose support widens with the downscale factor (antialiased), pixel centres at
 * +0.5, weights normalised; rounding to uint8 once at the end (PIL rounds after each pass, so a
 * pixel may differ from PIL's by 1). Random draws follow torchvision's {@code get_params} (10
 * tries, then the central fallback crop), with Python's round-half-even.
 *
 * <p>Thread-safe: all state is per call.
 */
public final class ImageNetTransform {

    /** ImageNet per-channel mean of pixel / 255 (torchvision's constants). */
    public static final float[] MEAN = {0.485f, 0.456f, 0.406f};

    /** ImageNet per-channel std of pixel / 255 (torchvision's constants). */
    public static final float[] STD = {0.229f, 0.224f, 0.225f};

    private static final double MIN_SCALE = 0.08;
    private static final double LOG_RATIO_LO = Math.log(3.0 / 4.0);
    private static final double LOG_RATIO_HI = Math.log(4.0 / 3.0);

    private final boolean train;
    private final int crop;
    private final int resize;

    private ImageNetTransform(boolean train, int crop, int resize) {
        if (crop < 1 || (!train && resize < crop)) {
            throw new IllegalArgumentException(
                    "crop must be >= 1 and resize >= crop, got crop "
                            + crop
                            + ", resize "
                            + resize);
        }
        this.train = train;
        this.crop = crop;
        this.resize = resize;
    }

    /**
     * The training transform: random resized crop + horizontal flip.
     *
     * @param crop the output side (224)
     * @return the transform
     */
    public static ImageNetTransform train(int crop) {
        return new ImageNetTransform(true, crop, 0);
    }

    /**
     * The evaluation transform: shorter side to {@code resize}, centre crop.
     *
     * @param resize the shorter side after resizing (256)
     * @param crop the output side (224)
     * @return the transform
     */
    public static ImageNetTransform eval(int resize, int crop) {
        return new ImageNetTransform(false, crop, resize);
    }

    /**
     * Returns whether this is the random training transform.
     *
     * @return true for training
     */
    public boolean isTrain() {
        return train;
    }

    /**
     * Returns the output side.
     *
     * @return the crop size
     */
    public int crop() {
        return crop;
    }

    /**
     * Returns the bytes of one output image.
     *
     * @return 3 * crop * crop
     */
    public int imageBytes() {
        return 3 * crop * crop;
    }

    /**
     * Decodes, crops, resizes and flips one image into {@code out}.
     *
     * @param file the image file
     * @param rnd the sample's generator (unused for evaluation)
     * @param out (.., 3, crop, crop) uint8 planar RGB (absolute puts: threads may fill distinct
     *     images of one buffer)
     * @param offset where the image starts in {@code out}
     * @throws DataSetException when the file cannot be read or decoded
     */
    public void apply(Path file, SplittableRandom rnd, ByteBuffer out, int offset) {
        Rgb img = decode(file);
        int w = img.width();
        int h = img.height();
        if (train) {
            int[] box = randomBox(w, h, rnd); // top, left, height, width
            boolean flip = rnd.nextDouble() < 0.5;
            resample(
                    img, box[1], box[0], box[3], box[2], crop, crop, 0, 0, crop, flip, out, offset);
        } else {
            int[] size = resizedSize(w, h, resize); // {width, height}
            int top = (int) Math.rint((size[1] - crop) / 2.0);
            int left = (int) Math.rint((size[0] - crop) / 2.0);
            resample(img, 0, 0, w, h, size[0], size[1], left, top, crop, false, out, offset);
        }
    }

    /**
     * torchvision {@code Resize(size)} with an int: the shorter side becomes {@code size}, the
     * longer {@code int(size * long / short)}.
     *
     * @return {width, height}
     */
    static int[] resizedSize(int w, int h, int size) {
        if (w <= h) {
            return new int[] {size, (int) ((long) size * h / w)};
        }
        return new int[] {(int) ((long) size * w / h), size};
    }

    /**
     * torchvision {@code RandomResizedCrop.get_params}: {top, left, height, width}.
     *
     * @param w image width
     * @param h image height
     * @param rnd the generator
     * @return the crop box
     */
    static int[] randomBox(int w, int h, SplittableRandom rnd) {
        double area = (double) w * h;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (MIN_SCALE + (1 - MIN_SCALE) * rnd.nextDouble());
            double ratio =
                    Math.exp(LOG_RATIO_LO + (LOG_RATIO_HI - LOG_RATIO_LO) * rnd.nextDouble());
            int cw = (int) Math.rint(Math.sqrt(target * ratio));
            int ch = (int) Math.rint(Math.sqrt(target / ratio));
            if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
                int top = rnd.nextInt(h - ch + 1);
                int left = rnd.nextInt(w - cw + 1);
                return new int[] {top, left, ch, cw};
            }
        }
        double inRatio = (double) w / h;
        int cw;
        int ch;
        if (inRatio < 3.0 / 4.0) {
            cw = w;
            ch = (int) Math.rint(cw / (3.0 / 4.0));
        } else if (inRatio > 4.0 / 3.0) {
            ch = h;
            cw = (int) Math.rint(ch * (4.0 / 3.0));
        } else {
            cw = w;
            ch = h;
        }
        return new int[] {(h - ch) / 2, (w - cw) / 2, ch, cw};
    }

    /** A decoded image: interleaved RGB bytes, (H, W, 3). */
    record Rgb(byte[] pixels, int width, int height) {}

    /**
     * Decodes an image file to interleaved RGB (grey images are replicated to 3 channels, as PIL's
     * {@code convert("RGB")}).
     *
     * @param file the file
     * @return the pixels
     * @throws DataSetException naming the file when it cannot be read or decoded
     */
    static Rgb decode(Path file) {
        BufferedImage bi;
        try {
            bi = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new DataSetException(
                    file,
                    (Files.exists(file)
                                    ? "cannot decode the image (" + why + ")"
                                    : "file not found (" + why + ")")
                            + "; convert it to an RGB JPEG (e.g. 'convert FILE -colorspace sRGB"
                            + " FILE' for CMYK JPEGs) or remove it",
                    e);
        }
        if (bi == null) {
            throw new DataSetException(
                    file, "not an image that Java can decode; convert it to JPEG or remove it");
        }
        int w = bi.getWidth();
        int h = bi.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int type = bi.getType();
        if (type == BufferedImage.TYPE_3BYTE_BGR
                && bi.getRaster().getDataBuffer() instanceof DataBufferByte db
                && db.getData().length == rgb.length) {
            byte[] bgr = db.getData();
            for (int i = 0; i < rgb.length; i += 3) {
                rgb[i] = bgr[i + 2];
                rgb[i + 1] = bgr[i + 1];
                rgb[i + 2] = bgr[i];
            }
        } else if (type == BufferedImage.TYPE_BYTE_GRAY
                && bi.getRaster().getDataBuffer() instanceof DataBufferByte db
                && db.getData().length == w * h) {
            byte[] g = db.getData();
            for (int i = 0, j = 0; i < g.length; i++, j += 3) {
                rgb[j] = g[i];
                rgb[j + 1] = g[i];
                rgb[j + 2] = g[i];
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                bi.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0, j = y * w * 3; x < w; x++, j += 3) {
                    int p = row[x];
                    rgb[j] = (byte) (p >> 16);
                    rgb[j + 1] = (byte) (p >> 8);
                    rgb[j + 2] = (byte) p;
                }
            }
        }
        return new Rgb(rgb, w, h);
    }

    /**
     * PIL's bilinear resize of the box (x0, y0, bw, bh) of {@code img} to (outW, outH), of which
     * the n x n window at (ox, oy) is written, planar, to {@code out} at {@code offset}.
     */
    static void resample(
            Rgb img,
            int x0,
            int y0,
            int bw,
            int bh,
            int outW,
            int outH,
            int ox,
            int oy,
            int n,
            boolean flip,
            ByteBuffer out,
            int offset) {
        Coeffs cx = Coeffs.of(bw, outW, ox, n);
        Coeffs cy = Coeffs.of(bh, outH, oy, n);
        int rowLo = cy.min[0];
        int rowHi = cy.min[n - 1] + cy.count[n - 1]; // exclusive, box rows
        int rows = rowHi - rowLo;
        // horizontal pass over the rows the vertical pass needs: (rows, n, 3) floats
        float[] tmp = new float[rows * n * 3];
        byte[] src = img.pixels();
        int sw = img.width();
        for (int r = 0; r < rows; r++) {
            int base = ((y0 + rowLo + r) * sw + x0) * 3;
            for (int x = 0; x < n; x++) {
                float a = 0;
                float b = 0;
                float c = 0;
                int k0 = x * cx.ksize;
                int p = base + cx.min[x] * 3;
                for (int k = 0; k < cx.count[x]; k++, p += 3) {
                    float wk = cx.weights[k0 + k];
                    a += wk * (src[p] & 0xFF);
                    b += wk * (src[p + 1] & 0xFF);
                    c += wk * (src[p + 2] & 0xFF);
                }
                int t = (r * n + x) * 3;
                tmp[t] = a;
                tmp[t + 1] = b;
                tmp[t + 2] = c;
            }
        }
        int plane = n * n;
        for (int y = 0; y < n; y++) {
            int k0 = y * cy.ksize;
            int r0 = cy.min[y] - rowLo;
            for (int x = 0; x < n; x++) {
                float a = 0;
                float b = 0;
                float c = 0;
                for (int k = 0; k < cy.count[y]; k++) {
                    float wk = cy.weights[k0 + k];
                    int t = ((r0 + k) * n + x) * 3;
                    a += wk * tmp[t];
                    b += wk * tmp[t + 1];
                    c += wk * tmp[t + 2];
                }
                int o = offset + y * n + (flip ? n - 1 - x : x);
                out.put(o, clip(a));
                out.put(o + plane, clip(b));
                out.put(o + 2 * plane, clip(c));
            }
        }
    }

    private static byte clip(float v) {
        int i = (int) (v + 0.5f);
        return (byte) (i < 0 ? 0 : Math.min(i, 255));
    }

    /**
     * PIL's {@code precompute_coeffs} for the bilinear (triangle, support 1) filter, for output
     * pixels {@code from .. from + n - 1} of an {@code inSize -> outSize} resize.
     */
    private record Coeffs(int ksize, int[] min, int[] count, float[] weights) {

        static Coeffs of(int inSize, int outSize, int from, int n) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // bilinear support 1
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] min = new int[n];
            int[] count = new int[n];
            float[] weights = new float[n * ksize];
            double ss = 1.0 / filterScale;
            for (int i = 0; i < n; i++) {
                double center = (from + i + 0.5) * scale;
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                double total = 0;
                double[] w = new double[xmax];
                for (int x = 0; x < xmax; x++) {
                    double d = Math.abs((x + xmin - center + 0.5) * ss);
                    w[x] = d < 1 ? 1 - d : 0;
                    total += w[x];
                }
                for (int x = 0; x < xmax; x++) {
                    weights[i * ksize + x] = (float) (total == 0 ? 0 : w[x] / total);
                }
                min[i] = xmin;
                count[i] = xmax;
            }
            return new Coeffs(ksize, min, count, weights);
        }
    }
}
