package ai.crcd.train.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small files in the real CIFAR binary and IDX formats for the reader tests. */
final class TestFiles {

    private TestFiles() {}

    /** Pixel value of sample i, channel c, row y, column x: distinct enough to catch mix-ups. */
    static int value(int i, int c, int y, int x) {
        return (i * 31 + c * 101 + y * 7 + x * 3) & 0xFF;
    }

    /**
     * Writes CIFAR records: label bytes then 1024 R, 1024 G, 1024 B bytes (row-major 32x32).
     *
     * @param labels per record, the label bytes (1 for CIFAR-10, {coarse, fine} for CIFAR-100)
     * @param first sample number of the first record (for {@link #value})
     */
    static void writeCifar(Path file, int[][] labels, int first) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int r = 0; r < labels.length; r++) {
                for (int l : labels[r]) {
                    out.write(l);
                }
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < 32; y++) {
                        for (int x = 0; x < 32; x++) {
                            out.write(value(first + r, c, y, x));
                        }
                    }
                }
            }
        }
    }

    /** Writes a gzip'd IDX images file: magic 2051, n, rows, cols, pixels. */
    static void writeIdxImages(Path file, int magic, int n, int h, int w, int truncateBy)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(16 + n * h * w);
        buf.putInt(magic).putInt(n).putInt(h).putInt(w);
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    buf.put((byte) value(i, 0, y, x));
                }
            }
        }
        gzip(file, buf.array(), buf.capacity() - truncateBy);
    }

    /** Writes a gzip'd IDX labels file: magic 2049, n, labels. */
    static void writeIdxLabels(Path file, int magic, int[] labels) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 + labels.length);
        buf.putInt(magic).putInt(labels.length);
        for (int l : labels) {
            buf.put((byte) l);
        }
        gzip(file, buf.array(), buf.capacity());
    }

    private static void gzip(Path file, byte[] bytes, int len) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes, 0, len);
        }
    }
}
