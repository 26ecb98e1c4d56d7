package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two splits of an image folder agree: one class list (the training split's), the training
 * split's normalisation, no silent test-on-train, and a held-out split that is stratified and fixed
 * by the seed. Tiny PNG folders are generated in a temporary directory.
 */
class ImageFolderSplitsTest {

    @TempDir Path tmp;

    /** Writes a w x h PNG of one colour plus a small per-pixel pattern from {@code seed}. */
    private static void png(Path file, int rgb, int seed, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int d = (seed * 7 + y * 3 + x) % 5; // 0..4 on each channel
                int r = Math.min(255, ((rgb >> 16) & 0xFF) + d);
                int g = Math.min(255, ((rgb >> 8) & 0xFF) + d);
                int b = Math.min(255, (rgb & 0xFF) + d);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    private static final Map<String, Integer> COLOURS =
            Map.of("a", 0xC01010, "b", 0x10C010, "c", 0x1010C0, "zebra", 0x808080);

    /** Writes {@code n} images of each class into {@code dir/<class>/}. */
    private static void classes(Path dir, int n, String... names) throws IOException {
        for (String c : names) {
            for (int i = 0; i < n; i++) {
                png(dir.resolve(c).resolve(i + ".png"), COLOURS.get(c), i, 5, 4);
            }
        }
    }

    /** A "trained model": 1-nearest-neighbour on the training split's pixels and labels. */
    private static int predict(ImageSet train, ImageSet test, int i) {
        int best = -1;
        long bestDist = Long.MAX_VALUE;
        int d = train.imageSize();
        for (int j = 0; j < train.size(); j++) {
            long dist = 0;
            for (int p = 0; p < d; p++) {
                int diff = (train.pixels()[j * d + p] & 0xFF) - (test.pixels()[i * d + p] & 0xFF);
                dist += (long) diff * diff;
            }
            if (dist < bestDist) {
                bestDist = dist;
                best = train.label(j);
            }
        }
        return best;
    }

    @Test
    void testLabelsFollowTheTrainingClassList() throws IOException {
        classes(tmp.resolve("train"), 2, "a", "b", "c");
        classes(tmp.resolve("test"), 1, "a", "c"); // class b has no test images
        ImageSet train = DataSets.open("image-folder", tmp, true, null);
        ImageSet test = DataSets.open("image-folder", tmp, false, null);
        int hits = 0;
        for (int i = 0; i < test.size(); i++) {
            hits += predict(train, test, i) == test.label(i) ? 1 : 0;
        }
        // the same perfect "model" scored 50 % when test labels came from test/'s own folders
        assertEquals(1.0, hits / (double) test.size(), "accuracy of a perfect 1-NN model");
        assertEquals(List.of("a", "b", "c"), test.classNames());
        assertEquals(3, test.numClasses());
        assertArrayEquals(new int[] {0, 2}, test.labels()); // a -> 0, c -> 2 (not 1)
    }

    @Test
    void missingTestClassIsAWarning() throws IOException {
        classes(tmp.resolve("train"), 2, "a", "b", "c");
        classes(tmp.resolve("test"), 1, "a", "c");
        DataSplits s =
                DataSets.openSplits(
                        "image-folder",
                        tmp,
                        DataOptions.of("image-folder", null),
                        TestSplit.FOLDER,
                        1);
        assertEquals(1, s.warnings().size(), s.warnings().toString());
        String w = s.warnings().get(0);
        assertTrue(w.contains("1 of 3 classes [b]"), w);
        classes(tmp.resolve("test"), 1, "b");
        assertEquals(
                List.of(),
                DataSets.openSplits(
                                "image-folder",
                                tmp,
                                DataOptions.of("image-folder", null),
                                TestSplit.FOLDER,
                                1)
                        .warnings());
    }

    @Test
    void unknownTestClassIsOneClearError() throws IOException {
        classes(tmp.resolve("train"), 1, "a", "b");
        classes(tmp.resolve("test"), 1, "a", "zebra");
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", tmp, false, null));
        assertEquals(tmp.resolve("test/zebra"), e.file());
        String m = e.getMessage();
        assertTrue(m.contains("'zebra'") && m.contains("[a, b]"), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void flatLayoutOrMissingTestFolderNeverTestsOnTrainingImages() throws IOException {
        Path flat = tmp.resolve("flat");
        classes(flat, 2, "a", "b");
        assertEquals(4, DataSets.open("image-folder", flat, true, null).size());
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", flat, false, null));
        assertTrue(
                e.getMessage().contains("holdout:0.1")
                        && e.getMessage().contains("data.test_split"),
                e.getMessage());

        Path onlyTrain = tmp.resolve("only-train");
        classes(onlyTrain.resolve("train"), 2, "a", "b");
        e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", onlyTrain, false, null));
        assertEquals(onlyTrain.resolve("test"), e.file());
        assertTrue(e.getMessage().contains("no test/ folder"), e.getMessage());
    }

    @Test
    void testSplitIsNormalisedWithTheTrainingStatistics() throws IOException {
        classes(tmp.resolve("train"), 2, "a", "b");
        // the test images are much brighter: their own statistics would differ a lot
        png(tmp.resolve("test/a/0.png"), 0xF0F0F0, 0, 5, 4);
        png(tmp.resolve("test/b/0.png"), 0xE0E0E0, 1, 5, 4);
        ImageSet train = DataSets.open("image-folder", tmp, true, null);
        ImageSet test = DataSets.open("image-folder", tmp, false, null);
        float[][] own = train.computeStats();
        assertArrayEquals(own[0], train.mean());
        assertArrayEquals(own[1], train.std());
        assertArrayEquals(train.mean(), test.mean());
        assertArrayEquals(train.std(), test.std());
        assertNotEquals(test.computeStats()[0][0], test.mean()[0], 0.1f);

        Map<String, Object> sizes = Map.of("size", 40, "testSize", 20);
        ImageSet synTrain = DataSets.open("synthetic", null, true, sizes);
        ImageSet synTest = DataSets.open("synthetic", null, false, sizes);
        assertEquals(20, synTest.size());
        assertArrayEquals(synTrain.mean(), synTest.mean());
        assertArrayEquals(synTrain.std(), synTest.std());
    }

    @Test
    void testImagesOfAnotherSizeAreNamedUnlessResized() throws IOException {
        classes(tmp.resolve("train"), 1, "a", "b"); // 5x4
        png(tmp.resolve("test/a/big.png"), 0xC01010, 0, 8, 8);
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", tmp, false, null));
        assertEquals(tmp.resolve("test/a/big.png"), e.file());
        assertTrue(e.getMessage().contains("the training images are 5x4"), e.getMessage());
        ImageSet test = DataSets.open("image-folder", tmp, false, Map.of("size", "6x7"));
        assertEquals(6, test.height());
        assertEquals(7, test.width());
    }

    @Test
    void holdoutIsStratifiedFixedBySeedAndDisjoint() throws IOException {
        Path flat = tmp.resolve("flat");
        classes(flat, 10, "a", "b", "c");
        DataOptions none = DataOptions.of("image-folder", null);
        DataSplits s = DataSets.openSplits("image-folder", flat, none, TestSplit.holdout(0.2), 7);
        assertEquals(24, s.train().size());
        assertEquals(6, s.test().size());
        int[] perClass = new int[3];
        for (int l : s.test().labels()) {
            perClass[l]++;
        }
        assertArrayEquals(new int[] {2, 2, 2}, perClass); // round(0.2 * 10) of every class
        int[] all =
                IntStream.concat(
                                Arrays.stream(s.train().sourceIndices()),
                                Arrays.stream(s.test().sourceIndices()))
                        .sorted()
                        .toArray();
        assertArrayEquals(IntStream.range(0, 30).toArray(), all); // disjoint, nothing lost
        for (int k = 0; k < s.test().size(); k++) {
            int src = s.test().sourceIndices()[k];
            assertEquals(src / 10, s.test().label(k)); // flat folders: 10 images per class
        }
        DataSplits again =
                DataSets.openSplits("image-folder", flat, none, TestSplit.holdout(0.2), 7);
        assertArrayEquals(s.test().sourceIndices(), again.test().sourceIndices());
        DataSplits other =
                DataSets.openSplits("image-folder", flat, none, TestSplit.holdout(0.2), 8);
        assertFalse(Arrays.equals(s.test().sourceIndices(), other.test().sourceIndices()));
        // statistics: of what stays in training, used for both
        float[][] st = s.train().computeStats();
        assertArrayEquals(st[0], s.train().mean());
        assertArrayEquals(st[1], s.train().std());
        assertArrayEquals(st[0], s.test().mean());
        assertEquals(List.of(), s.warnings());

        // a class of one image stays in training; at least one test image per class of >= 2
        DataSplits tiny =
                DataSets.openSplits(
                        "synthetic",
                        null,
                        DataOptions.of("synthetic", Map.of("size", 7, "classes", 3)),
                        TestSplit.holdout(0.01),
                        1);
        assertEquals(3, tiny.test().size()); // classes of 3, 2, 2 samples: 1 each
        assertEquals(4, tiny.train().size());
    }

    @Test
    void testOnTrainOnlyWhenAskedAndThenSaidSo() throws IOException {
        Path flat = tmp.resolve("flat");
        classes(flat, 2, "a", "b");
        DataSplits s =
                DataSets.openSplits(
                        "image-folder",
                        flat,
                        DataOptions.of("image-folder", null),
                        TestSplit.TRAIN,
                        1);
        assertSame(s.train().pixels(), s.test().pixels());
        assertTrue(s.warnings().get(0).contains("training images"), s.warnings().toString());
    }

    @Test
    void testSplitValuesParseOrGiveTheAllowedOnes() {
        assertEquals("folder", TestSplit.parse("folder").toString());
        assertEquals("train", TestSplit.parse(" Train ").toString());
        assertEquals(0.1, TestSplit.parse("holdout:0.1").fraction());
        for (String bad :
                new String[] {"holdout", "holdout:0", "holdout:1", "holdout:x", "none", ""}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> TestSplit.parse(bad), bad);
            assertEquals(TestSplit.ALLOWED, e.getMessage());
        }
    }
}
