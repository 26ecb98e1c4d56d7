package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming ImageNet-folder loader on a generated folder of 300 JPEGs: class list and labels,
 * every index once per epoch, shapes, determinism per seed, the evaluation transform exact on known
 * images, torchvision's random-resized-crop parameters and flips, a corrupt file named in one line.
 */
class ImageNetLoaderTest {

    private static final int CLASSES = 5;
    private static final int TRAIN = 48;
    private static final int VAL = 12;

    @TempDir static Path root;

    @BeforeAll
    static void writeFolder() throws IOException {
        ImageNetFolders.write(root, CLASSES, TRAIN, VAL, 40, 7);
        // a file that is not an image is ignored by extension; one with a bad extension case kept
        Files.writeString(
                root.resolve("train").resolve(ImageNetFolders.wnid(0)).resolve("notes.txt"), "x");
    }

    private static ImageNetLoader loader(
            ImageNetFolder f,
            ImageNetTransform t,
            int batch,
            boolean shuffle,
            long seed,
            NDManager m) {
        return ImageNetLoader.builder()
                .setFolder(f)
                .setTransform(t)
                .setBatchSize(batch)
                .setManager(m)
                .optShuffle(shuffle)
                .optSeed(seed)
                .optThreads(2)
                .build();
    }

    @Test
    void classListLabelsAndValAgainstTrain() throws IOException {
        ImageNetFolder train = ImageNetFolder.scan(root.resolve("train"), "t", null);
        assertEquals(CLASSES, train.numClasses());
        assertEquals(CLASSES * TRAIN, train.size());
        List<String> wnids = new ArrayList<>();
        for (int k = 0; k < CLASSES; k++) {
            wnids.add(ImageNetFolders.wnid(k));
        }
        assertEquals(wnids, train.classNames());
        for (int i = 0; i < train.size(); i++) {
            assertEquals(
                    train.classNames().get(train.label(i)),
                    train.file(i).getParent().getFileName().toString());
            assertTrue(train.file(i).toString().endsWith(".JPEG"));
        }
        ImageNetFolder val = ImageNetFolder.scan(root.resolve("val"), "v", train.classNames());
        assertEquals(CLASSES * VAL, val.size());
        assertEquals(train.classNames(), val.classNames());
        assertEquals(2 * CLASSES, train.firstPerClass(2).size());

        // a validation class unknown to train/ is one line naming the folder
        Path odd = Files.createTempDirectory("val-odd");
        Files.createDirectories(odd.resolve(ImageNetFolders.wnid(0)));
        Files.createDirectories(odd.resolve("n99999999"));
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> ImageNetFolder.scan(odd, "v", train.classNames()));
        assertTrue(
                e.getMessage().contains("n99999999") && !e.getMessage().contains("\n"),
                e.getMessage());
        // an empty training class folder is refused with the fix
        Files.createDirectories(odd.resolve("n99999999").resolve("x"));
        e = assertThrows(DataSetException.class, () -> ImageNetFolder.scan(odd, "t", null));
        assertTrue(e.getMessage().contains("no images"), e.getMessage());
    }

    @Test
    void streamsEveryIndexOnceWithItsLabelDeterministically() {
        ImageNetFolder train = ImageNetFolder.scan(root.resolve("train"), "t", null);
        try (NDManager m = NDManager.newBaseManager();
                ImageNetLoader a = loader(train, ImageNetTransform.train(32), 50, true, 3, m);
                ImageNetLoader b = loader(train, ImageNetTransform.train(32), 50, true, 3, m);
                ImageNetLoader c = loader(train, ImageNetTransform.train(32), 50, true, 4, m)) {
            assertEquals(5, a.batchesPerEpoch());
            List<float[]> first = new ArrayList<>();
            int[] seen = new int[train.size()];
            long[] order0 = new long[train.size()];
            int pos = 0;
            for (Iterator<IndexedBatch> it = a.epoch(0); it.hasNext(); ) {
                try (IndexedBatch batch = it.next()) {
                    int n = batch.size();
                    assertEquals(new Shape(n, 3, 32, 32), batch.images().getShape());
                    assertEquals(DataType.FLOAT32, batch.images().getDataType());
                    assertEquals(DataType.INT64, batch.labels().getDataType());
                    long[] idx = batch.indices().toLongArray();
                    long[] lab = batch.labels().toLongArray();
                    for (int k = 0; k < n; k++) {
                        seen[(int) idx[k]]++;
                        assertEquals(train.label((int) idx[k]), lab[k]);
                        order0[pos++] = idx[k];
                    }
                    float[] px = batch.images().toFloatArray();
                    // normalised: (v / 255 - mean) / std stays within [-mean/std, (1-mean)/std]
                    for (float v : px) {
                        assertTrue(v >= -2.2f && v <= 2.7f, "value " + v);
                    }
                    first.add(px);
                }
            }
            int[] once = new int[train.size()];
            Arrays.fill(once, 1);
            assertArrayEquals(once, seen);
            assertEquals(2, a.workerThreads().size(), "decoded on the 2 background threads");
            assertFalse(isSorted(order0), "epoch 0 is shuffled");

            // same seed: the same batches; other seed or epoch: others
            Iterator<IndexedBatch> same = b.epoch(0);
            for (float[] px : first) {
                try (IndexedBatch batch = same.next()) {
                    assertArrayEquals(px, batch.images().toFloatArray());
                }
            }
            try (IndexedBatch other = c.epoch(0).next();
                    IndexedBatch nextEpoch = a.epoch(1).next()) {
                assertFalse(Arrays.equals(first.get(0), other.images().toFloatArray()));
                assertFalse(Arrays.equals(first.get(0), nextEpoch.images().toFloatArray()));
            }
            // starting an epoch abandons an unfinished earlier iterator (its work is skipped)
            Iterator<IndexedBatch> old = b.epoch(2);
            try (IndexedBatch fresh = b.epoch(3).next()) {
                assertEquals(50, fresh.size());
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, old::next);
            assertTrue(e.getMessage().contains("abandoned"), e.getMessage());
        }
    }

    private static boolean isSorted(long[] a) {
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[i - 1]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A 256x320 JPEG: Resize(256) keeps it, CenterCrop(224) takes rows 48.., columns 16..; the
     * expectation is computed from ImageIO's own decoding of the file.
     */
    @Test
    void evalTransformIsResizeAndCentreCropExactly() throws IOException {
        Path dir = Files.createTempDirectory("imagenet-exact");
        Path cls = Files.createDirectories(dir.resolve("val").resolve("n00000001"));
        Path file = cls.resolve("a.JPEG");
        ImageNetFolders.jpeg(file, ImageNetFolders.image(256, 320, 1, 3, new SplittableRandom(1)));
        // a 512x512 PNG with R = x / 2, G = y / 2, B = 255 - x / 2: the 2x antialiased bilinear
        // downscale of a linear ramp is the ramp (weights 1/8, 3/8, 3/8, 1/8 around 2i + 1)
        BufferedImage ramp = new BufferedImage(512, 512, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 512; y++) {
            for (int x = 0; x < 512; x++) {
                ramp.setRGB(x, y, ((x / 2) << 16) | ((y / 2) << 8) | (255 - x / 2));
            }
        }
        ImageIO.write(ramp, "png", cls.resolve("b.png").toFile());
        ImageNetFolder val = ImageNetFolder.scan(dir.resolve("val"), "v", List.of("n00000001"));
        try (NDManager m = NDManager.newBaseManager();
                ImageNetLoader l = loader(val, ImageNetTransform.eval(256, 224), 2, false, 0, m);
                IndexedBatch batch = l.epoch(0).next()) {
            assertEquals(new Shape(2, 3, 224, 224), batch.images().getShape());
            float[] got = batch.images().toFloatArray();
            BufferedImage dec = ImageIO.read(file.toFile());
            int plane = 224 * 224;
            for (int y = 0; y < 224; y++) {
                for (int x = 0; x < 224; x++) {
                    int p = dec.getRGB(16 + x, 48 + y);
                    int[] rgb = {(p >> 16) & 255, (p >> 8) & 255, p & 255};
                    int[] r2 = {16 + x, 16 + y, 255 - 16 - x};
                    for (int c = 0; c < 3; c++) {
                        float e1 =
                                (rgb[c] / 255f - ImageNetTransform.MEAN[c])
                                        / ImageNetTransform.STD[c];
                        assertEquals(e1, got[c * plane + y * 224 + x], 1e-5f, "jpeg " + c + y + x);
                        float e2 =
                                (r2[c] / 255f - ImageNetTransform.MEAN[c])
                                        / ImageNetTransform.STD[c];
                        assertEquals(
                                e2,
                                got[3 * plane + c * plane + y * 224 + x],
                                1e-5f,
                                "ramp c" + c + " y" + y + " x" + x);
                    }
                }
            }
        }
    }

    /** A grey-scale image is replicated to 3 channels (PIL's convert("RGB")), values kept. */
    @Test
    void greyImagesBecomeRgb() throws IOException {
        Path dir = Files.createTempDirectory("imagenet-grey");
        Path cls = Files.createDirectories(dir.resolve("val").resolve("n00000001"));
        BufferedImage grey = new BufferedImage(256, 256, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = ((java.awt.image.DataBufferByte) grey.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) ((i * 7) % 251);
        }
        ImageIO.write(grey, "png", cls.resolve("g.png").toFile());
        ImageNetFolder val = ImageNetFolder.scan(dir.resolve("val"), "v", List.of("n00000001"));
        try (NDManager m = NDManager.newBaseManager();
                ImageNetLoader l = loader(val, ImageNetTransform.eval(256, 224), 1, false, 0, m);
                IndexedBatch batch = l.epoch(0).next()) {
            float[] got = batch.images().toFloatArray();
            int plane = 224 * 224;
            for (int y = 0; y < 224; y += 7) {
                for (int x = 0; x < 224; x += 5) {
                    int v = px[(16 + y) * 256 + 16 + x] & 0xFF;
                    for (int c = 0; c < 3; c++) {
                        float e = (v / 255f - ImageNetTransform.MEAN[c]) / ImageNetTransform.STD[c];
                        assertEquals(e, got[c * plane + y * 224 + x], 1e-5f);
                    }
                }
            }
        }
    }

    @Test
    void randomResizedCropFollowsTorchvision() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int t = 0; t < 2000; t++) {
            int w = 50 + rnd.nextInt(500);
            int h = 50 + rnd.nextInt(500);
            int[] box = ImageNetTransform.randomBox(w, h, rnd); // top, left, height, width
            assertTrue(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= h && box[1] + box[3] <= w);
            double area = (double) box[2] * box[3] / ((double) w * h);
            assertTrue(area >= 0.06 && area <= 1.0, "area " + area);
            double ratio = (double) box[3] / box[2];
            assertTrue(ratio > 0.7 && ratio < 1.43, "ratio " + ratio);
        }
        // 1000x10 fails all 10 tries: the central fallback, height 10, width round(10 * 4 / 3)
        assertArrayEquals(new int[] {0, 493, 10, 13}, ImageNetTransform.randomBox(1000, 10, rnd));
        assertArrayEquals(new int[] {493, 0, 13, 10}, ImageNetTransform.randomBox(10, 1000, rnd));
        // torchvision Resize(256): shorter side 256, the longer int(256 * long / short)
        assertArrayEquals(new int[] {256, 341}, ImageNetTransform.resizedSize(375, 500, 256));
        assertArrayEquals(new int[] {341, 256}, ImageNetTransform.resizedSize(500, 375, 256));
    }

    /** A horizontal ramp stays monotone through crop and resize: rising, or falling if flipped. */
    @Test
    void trainCropsFlipAboutHalfTheImages() throws IOException {
        Path dir = Files.createTempDirectory("imagenet-flip");
        Path cls = Files.createDirectories(dir.resolve("train").resolve("n00000001"));
        BufferedImage ramp = new BufferedImage(300, 200, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                int v = 20 + x * 2 / 3;
                ramp.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        for (int i = 0; i < 40; i++) {
            ImageIO.write(ramp, "png", cls.resolve(i + ".png").toFile());
        }
        ImageNetFolder f = ImageNetFolder.scan(dir.resolve("train"), "t", null);
        int flipped = 0;
        try (NDManager m = NDManager.newBaseManager();
                ImageNetLoader l = loader(f, ImageNetTransform.train(16), 40, true, 9, m);
                IndexedBatch b = l.epoch(0).next()) {
            float[] px = b.images().toFloatArray();
            for (int k = 0; k < 40; k++) {
                int row = k * 3 * 256 + 8 * 16; // channel 0, row 8
                float left = px[row];
                float right = px[row + 15];
                assertTrue(left != right, "a crop of >= 8% of a ramp is not flat");
                for (int x = 1; x < 16; x++) {
                    float d = px[row + x] - px[row + x - 1];
                    assertTrue(left < right ? d >= 0 : d <= 0, "monotone");
                }
                flipped += left > right ? 1 : 0;
            }
        }
        assertTrue(flipped >= 8 && flipped <= 32, flipped + " of 40 flipped");
    }

    @Test
    void corruptFileIsNamedInOneLine() throws IOException {
        Path dir = Files.createTempDirectory("imagenet-bad");
        Path cls = Files.createDirectories(dir.resolve("train").resolve("n00000001"));
        Files.write(cls.resolve("bad.JPEG"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
        ImageNetFolder f = ImageNetFolder.scan(dir.resolve("train"), "t", null);
        try (NDManager m = NDManager.newBaseManager();
                ImageNetLoader l = loader(f, ImageNetTransform.train(16), 1, false, 0, m)) {
            Iterator<IndexedBatch> it = l.epoch(0);
            DataSetException e = assertThrows(DataSetException.class, it::next);
            assertTrue(
                    e.getMessage().startsWith(cls.resolve("bad.JPEG").toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
