package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFormatTest {

    @TempDir Path tmp;

    private void writeSplit(Path dir, boolean train, int n, int h, int w, int[] labels)
            throws IOException {
        TestFiles.writeIdxImages(IdxFormat.file(dir, train, true), 0x803, n, h, w, 0);
        TestFiles.writeIdxLabels(IdxFormat.file(dir, train, false), 0x801, labels);
    }

    @Test
    void readsPixelsAndLabels() throws IOException {
        writeSplit(tmp, true, 3, 5, 4, new int[] {9, 0, 4});
        writeSplit(tmp, false, 2, 5, 4, new int[] {1, 2});
        ImageSet set = DataSets.open("mnist", tmp, true, null);
        assertEquals(3, set.size());
        assertEquals(1, set.channels());
        assertEquals(5, set.height());
        assertEquals(4, set.width());
        assertArrayEquals(new int[] {9, 0, 4}, set.labels());
        for (int i = 0; i < 3; i++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(TestFiles.value(i, 0, y, x), set.pixel(i, 0, y, x));
                    assertEquals(
                            TestFiles.value(i, 0, y, x), set.pixels()[(i * 5 + y) * 4 + x] & 0xFF);
                }
            }
        }
        assertEquals(2, DataSets.open("fashion-mnist", tmp, false, null).size());
    }

    @Test
    void wrongMagicIsNamed() throws IOException {
        Path images = IdxFormat.file(tmp, true, true);
        TestFiles.writeIdxImages(images, 0x801, 2, 3, 3, 0); // a labels magic in an image file
        TestFiles.writeIdxLabels(IdxFormat.file(tmp, true, false), 0x801, new int[] {1, 2});
        DataSetException e =
                assertThrows(DataSetException.class, () -> DataSets.open("mnist", tmp, true, null));
        assertEquals(images, e.file());
        assertTrue(
                e.getMessage().contains("wrong magic number 0x00000801, expected 0x00000803"),
                e.getMessage());
    }

    @Test
    void truncatedImagesAreNamed() throws IOException {
        Path images = IdxFormat.file(tmp, true, true);
        TestFiles.writeIdxImages(images, 0x803, 4, 3, 3, 5);
        TestFiles.writeIdxLabels(IdxFormat.file(tmp, true, false), 0x801, new int[] {1, 2, 3, 4});
        DataSetException e =
                assertThrows(DataSetException.class, () -> DataSets.open("mnist", tmp, true, null));
        assertEquals(images, e.file());
        assertTrue(
                e.getMessage().contains("truncated") && e.getMessage().contains("36"),
                e.getMessage());
    }

    @Test
    void corruptGzipIsNamed() throws IOException {
        Path images = IdxFormat.file(tmp, true, true);
        TestFiles.writeIdxImages(images, 0x803, 4, 3, 3, 0);
        byte[] b = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(b, b.length - 12)); // cut the gzip trailer
        TestFiles.writeIdxLabels(IdxFormat.file(tmp, true, false), 0x801, new int[] {1, 2, 3, 4});
        DataSetException e =
                assertThrows(DataSetException.class, () -> DataSets.open("mnist", tmp, true, null));
        assertEquals(images, e.file());
    }

    @Test
    void labelOutOfRangeAndCountMismatchAreNamed() throws IOException {
        Path labels = IdxFormat.file(tmp, true, false);
        TestFiles.writeIdxImages(IdxFormat.file(tmp, true, true), 0x803, 3, 2, 2, 0);
        TestFiles.writeIdxLabels(labels, 0x801, new int[] {1, 12, 3});
        DataSetException e =
                assertThrows(DataSetException.class, () -> DataSets.open("mnist", tmp, true, null));
        assertEquals(labels, e.file());
        assertTrue(e.getMessage().contains("label 12 of sample 1 is outside 0..9"), e.getMessage());
        TestFiles.writeIdxLabels(labels, 0x801, new int[] {1, 2});
        e = assertThrows(DataSetException.class, () -> DataSets.open("mnist", tmp, true, null));
        assertTrue(e.getMessage().contains("2 labels but"), e.getMessage());
    }

    @Test
    void missingFolderSaysHowToInstall() {
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("fashion-mnist", tmp.resolve("none"), true, null));
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void realFashionMnistWhenInstalled() throws IOException {
        Path dir = DataSets.FASHION_MNIST_DIR;
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        Assumptions.assumeTrue(Files.isRegularFile(labels), "Fashion-MNIST not installed");
        int firstLabel;
        try (DataInputStream in =
                new DataInputStream(new GZIPInputStream(Files.newInputStream(labels)))) {
            assertEquals(0x801, in.readInt());
            assertEquals(60000, in.readInt());
            firstLabel = in.readUnsignedByte();
        }
        ImageSet train = DataSets.open("fashion-mnist", null, true, null);
        ImageSet test = DataSets.open("fashion-mnist", null, false, null);
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertEquals(10, train.numClasses());
        assertEquals(28, train.height());
        assertEquals(28, train.width());
        assertEquals(firstLabel, train.label(0));
        int[] perClass = new int[10];
        for (int l : train.labels()) {
            perClass[l]++;
        }
        for (int k = 0; k < 10; k++) {
            assertEquals(6000, perClass[k], "class " + k); // Fashion-MNIST is balanced
        }
        // the documented normalisation constants, recomputed here in plain double arithmetic
        double sum = 0;
        double sq = 0;
        for (byte b : train.pixels()) {
            double v = (b & 0xFF) / 255.0;
            sum += v;
            sq += v * v;
        }
        double n = train.pixels().length;
        double mean = sum / n;
        double std = Math.sqrt(sq / n - mean * mean);
        assertEquals(DataSets.FASHION_MNIST_MEAN[0], mean, 1e-6);
        assertEquals(DataSets.FASHION_MNIST_STD[0], std, 1e-6);
        assertArrayEquals(DataSets.FASHION_MNIST_MEAN, train.mean());
    }
}
