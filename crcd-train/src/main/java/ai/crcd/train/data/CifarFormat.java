package ai.crcd.train.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CIFAR binary formats (https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * <p>CIFAR-10: {@code data_batch_1..5.bin} (train) and {@code test_batch.bin} (test) in {@code
 * cifar-10-batches-bin/}; each record is 1 label byte (0..9) and 3072 pixel bytes (1024 R, 1024 G,
 * 1024 B, each plane row-major 32x32). CIFAR-100: {@code train.bin} and {@code test.bin} in {@code
 * cifar-100-binary/}; each record is 1 coarse-label byte (0..19), 1 fine-label byte (0..99) and the
 * same 3072 pixel bytes. The pixel layout is already CHW, so records are copied as they are.
 */
public enum CifarFormat {

    /** CIFAR-10, 10 classes. */
    CIFAR10(
            "cifar10",
            "cifar-10-batches-bin",
            List.of(
                    "data_batch_1.bin",
                    "data_batch_2.bin",
                    "data_batch_3.bin",
                    "data_batch_4.bin",
                    "data_batch_5.bin"),
            List.of("test_batch.bin"),
            1,
            "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            // MD5 published on the Toronto page (table "Download", binary version); 170,052,171 B.
            "c32a1d4ab5d03f1284b67883e8d87530",
            new float[] {0.4914f, 0.4822f, 0.4465f},
            new float[] {0.2470f, 0.2435f, 0.2616f}),

    /** CIFAR-100, 100 fine classes (20 coarse ones as an option). */
    CIFAR100(
            "cifar100",
            "cifar-100-binary",
            List.of("train.bin"),
            List.of("test.bin"),
            2,
            "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            // MD5 published on the Toronto page (table "Download", binary version); 168,513,733 B.
            "03b5dce01913d631647c71ecec9e9cb8",
            // RepDistiller / CRCD normalisation (reference README section 4).
            new float[] {0.5071f, 0.4867f, 0.4408f},
            new float[] {0.2675f, 0.2565f, 0.2761f});

    /** Pixel bytes per record: 3 x 32 x 32. */
    public static final int IMAGE_BYTES = 3 * 32 * 32;

    private final String id;
    private final String folder;
    private final List<String> trainFiles;
    private final List<String> testFiles;
    private final int labelBytes;
    private final String url;
    private final String md5;
    private final float[] mean;
    private final float[] std;

    CifarFormat(
            String id,
            String folder,
            List<String> trainFiles,
            List<String> testFiles,
            int labelBytes,
            String url,
            String md5,
            float[] mean,
            float[] std) {
        this.id = id;
        this.folder = folder;
        this.trainFiles = trainFiles;
        this.testFiles = testFiles;
        this.labelBytes = labelBytes;
        this.url = url;
        this.md5 = md5;
        this.mean = mean;
        this.std = std;
    }

    /**
     * Returns the data set name used by {@link DataSets}.
     *
     * @return {@code cifar10} or {@code cifar100}
     */
    public String id() {
        return id;
    }

    /**
     * Returns the folder the official archive unpacks to.
     *
     * @return e.g. {@code cifar-100-binary}
     */
    public String folder() {
        return folder;
    }

    /**
     * Returns the file names of a split.
     *
     * @param train the training split, else the test split
     * @return the file names, in reading order
     */
    public List<String> files(boolean train) {
        return train ? trainFiles : testFiles;
    }

    /**
     * Returns the bytes of one record.
     *
     * @return label bytes + 3072
     */
    public int recordBytes() {
        return labelBytes + IMAGE_BYTES;
    }

    /**
     * Returns the official archive URL.
     *
     * @return the https URL
     */
    public String url() {
        return url;
    }

    /**
     * Returns the MD5 of the official archive.
     *
     * @return lower-case hex
     */
    public String md5() {
        return md5;
    }

    /**
     * Returns the archive file name.
     *
     * @return e.g. {@code cifar-100-binary.tar.gz}
     */
    public String archiveName() {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /**
     * Returns the normalisation mean of pixel/255 per channel (R, G, B).
     *
     * @return (3) means
     */
    public float[] mean() {
        return mean.clone();
    }

    /**
     * Returns the normalisation std of pixel/255 per channel (R, G, B).
     *
     * @return (3) standard deviations
     */
    public float[] std() {
        return std.clone();
    }

    /**
     * Returns the number of classes.
     *
     * @param coarse CIFAR-100 coarse labels (ignored for CIFAR-10)
     * @return 10, 100 or 20
     */
    public int numClasses(boolean coarse) {
        return this == CIFAR10 ? 10 : coarse ? 20 : 100;
    }

    /**
     * Reads binary files into one set, in file order.
     *
     * @param files the files
     * @param name the set name
     * @param coarse CIFAR-100: use the coarse label instead of the fine one
     * @return the set
     * @throws DataSetException when a file is missing, truncated or holds a bad label
     */
    public ImageSet read(List<Path> files, String name, boolean coarse) {
        int rec = recordBytes();
        long total = 0;
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new DataSetException(f, "file not found");
            }
            long size = size(f);
            if (size == 0 || size % rec != 0) {
                throw new DataSetException(
                        f,
                        "size "
                                + size
                                + " bytes is not a positive multiple of the "
                                + rec
                                + "-byte "
                                + id
                                + " record: the file is truncated or not a "
                                + id
                                + " binary file; download it again");
            }
            total += size / rec;
        }
        if (total * IMAGE_BYTES > Integer.MAX_VALUE - 8) {
            throw new DataSetException(files.get(0), "too many records: " + total);
        }
        int n = (int) total;
        byte[] pixels = new byte[n * IMAGE_BYTES];
        int[] labels = new int[n];
        int classes = numClasses(coarse);
        int labelAt = this == CIFAR100 && !coarse ? 1 : 0;
        byte[] buf = new byte[rec];
        int i = 0;
        for (Path f : files) {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 20)) {
                long records = size(f) / rec;
                for (long r = 0; r < records; r++, i++) {
                    readFully(in, buf, f, r);
                    int label = buf[labelAt] & 0xFF;
                    if (label >= classes) {
                        throw new DataSetException(
                                f,
                                "record "
                                        + r
                                        + " (byte "
                                        + r * rec
                                        + "): label "
                                        + label
                                        + " is outside 0.."
                                        + (classes - 1)
                                        + ": the file is corrupt or not a "
                                        + id
                                        + " binary file");
                    }
                    if (this == CIFAR100 && (buf[0] & 0xFF) >= 20) {
                        throw new DataSetException(
                                f,
                                "record "
                                        + r
                                        + ": coarse label "
                                        + (buf[0] & 0xFF)
                                        + " is outside 0..19: the file is corrupt");
                    }
                    if (this == CIFAR100 && (buf[1] & 0xFF) >= 100) {
                        throw new DataSetException(
                                f,
                                "record "
                                        + r
                                        + ": fine label "
                                        + (buf[1] & 0xFF)
                                        + " is outside 0..99: the file is corrupt");
                    }
                    labels[i] = label;
                    System.arraycopy(buf, labelBytes, pixels, i * IMAGE_BYTES, IMAGE_BYTES);
                }
            } catch (IOException e) {
                throw new DataSetException(f, "cannot read: " + e.getMessage(), e);
            }
        }
        return ImageSet.builder()
                .setName(name)
                .setShape(3, 32, 32)
                .setNumClasses(classes)
                .setData(pixels, labels)
                .optNormalization(mean, std)
                .build();
    }

    private static void readFully(InputStream in, byte[] buf, Path f, long record)
            throws IOException {
        int off = 0;
        while (off < buf.length) {
            int k = in.read(buf, off, buf.length - off);
            if (k < 0) {
                throw new DataSetException(
                        f, "truncated: file ends inside record " + record, new EOFException());
            }
            off += k;
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new DataSetException(f, "cannot read size: " + e.getMessage(), e);
        }
    }
}
