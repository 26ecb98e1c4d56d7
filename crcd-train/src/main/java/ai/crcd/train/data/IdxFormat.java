package ai.crcd.train.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of the IDX files of MNIST and Fashion-MNIST, gzip'd ({@code .gz}, detected by the gzip
 * magic bytes) or plain. Image files: big-endian int32 magic {@code 0x00000803} (2051), count N,
 * rows H, columns W, then N*H*W unsigned bytes row-major. Label files: magic {@code 0x00000801}
 * (2049), count N, then N label bytes. Both files of a split must agree on N; no byte may follow
 * the data.
 */
public final class IdxFormat {

    /** Magic number of an IDX file of unsigned-byte 3-D data (images). */
    public static final int IMAGES_MAGIC = 0x00000803;

    /** Magic number of an IDX file of unsigned-byte 1-D data (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxFormat() {}

    /**
     * Returns the file of a split in a folder, preferring the gzip'd name.
     *
     * @param folder the folder
     * @param train the training split ({@code train-*}), else the test split ({@code t10k-*})
     * @param images the images file, else the labels file
     * @return the path ({@code .gz} when that exists or neither exists)
     */
    public static Path file(Path folder, boolean train, boolean images) {
        String base =
                (train ? "train" : "t10k") + (images ? "-images-idx3-ubyte" : "-labels-idx1-ubyte");
        Path plain = folder.resolve(base);
        Path gz = folder.resolve(base + ".gz");
        return !Files.exists(gz) && Files.exists(plain) ? plain : gz;
    }

    /**
     * Reads an image file and its label file.
     *
     * @param imagesFile the images IDX file
     * @param labelsFile the labels IDX file
     * @param name the set name
     * @param numClasses labels must be below this
     * @param mean (1) normalisation mean, or {@code null} to compute it
     * @param std (1) normalisation std, or {@code null} to compute it
     * @return the set, 1 x H x W per image
     * @throws DataSetException naming the file: missing, bad magic, bad sizes, truncated, bad label
     */
    public static ImageSet read(
            Path imagesFile,
            Path labelsFile,
            String name,
            int numClasses,
            float[] mean,
            float[] std) {
        int[] dims = new int[3];
        byte[] pixels = readBody(imagesFile, IMAGES_MAGIC, dims);
        int[] ldims = new int[1];
        byte[] raw = readBody(labelsFile, LABELS_MAGIC, ldims);
        if (ldims[0] != dims[0]) {
            throw new DataSetException(
                    labelsFile,
                    "holds "
                            + ldims[0]
                            + " labels but "
                            + imagesFile
                            + " holds "
                            + dims[0]
                            + " images: the files do not belong together");
        }
        int[] labels = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            labels[i] = raw[i] & 0xFF;
            if (labels[i] >= numClasses) {
                throw new DataSetException(
                        labelsFile,
                        "label "
                                + labels[i]
                                + " of sample "
                                + i
                                + " is outside 0.."
                                + (numClasses - 1)
                                + ": the file is corrupt");
            }
        }
        return ImageSet.builder()
                .setName(name)
                .setShape(1, dims[1], dims[2])
                .setNumClasses(numClasses)
                .setData(pixels, labels)
                .optNormalization(mean, std)
                .build();
    }

    private static byte[] readBody(Path file, int magic, int[] dims) {
        if (!Files.isRegularFile(file)) {
            throw new DataSetException(file, "file not found");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
            DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16));
            int m;
            try {
                m = data.readInt();
            } catch (EOFException e) {
                throw new DataSetException(file, "truncated: shorter than the 4-byte IDX magic");
            }
            if (m != magic) {
                throw new DataSetException(
                        file,
                        String.format(
                                "wrong magic number 0x%08X, expected 0x%08X (%s IDX file)",
                                m, magic, magic == IMAGES_MAGIC ? "an images" : "a labels"));
            }
            long total = 1;
            for (int d = 0; d < dims.length; d++) {
                try {
                    dims[d] = data.readInt();
                } catch (EOFException e) {
                    throw new DataSetException(file, "truncated inside the IDX header");
                }
                if (dims[d] <= 0) {
                    throw new DataSetException(file, "dimension " + d + " is " + dims[d]);
                }
                total *= dims[d];
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new DataSetException(file, "data too large: " + total + " bytes");
            }
            byte[] body = new byte[(int) total];
            int off = 0;
            while (off < body.length) {
                int k = data.read(body, off, body.length - off);
                if (k < 0) {
                    throw new DataSetException(
                            file,
                            "truncated: the header announces "
                                    + total
                                    + " data bytes, the file ends after "
                                    + off);
                }
                off += k;
            }
            if (data.read() >= 0) {
                throw new DataSetException(
                        file,
                        "unexpected bytes after the "
                                + total
                                + " data bytes the header announces: the file is corrupt");
            }
            return body;
        } catch (ZipException e) {
            throw new DataSetException(file, "corrupt gzip data: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new DataSetException(file, "truncated gzip stream", e);
        } catch (IOException e) {
            throw new DataSetException(file, "cannot read: " + e.getMessage(), e);
        }
    }
}
