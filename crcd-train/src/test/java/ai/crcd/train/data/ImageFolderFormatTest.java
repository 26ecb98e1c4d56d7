package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderFormatTest {

    @TempDir Path tmp;

    private static void png(Path file, int seed, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(
                        x,
                        y,
                        (TestFiles.value(seed, 0, y, x) << 16)
                                | (TestFiles.value(seed, 1, y, x) << 8)
                                | TestFiles.value(seed, 2, y, x));
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    @Test
    void classPerSubFolderInSortedOrder() throws IOException {
        png(tmp.resolve("train/dog/b.png"), 2, 5, 4);
        png(tmp.resolve("train/dog/a.png"), 1, 5, 4);
        png(tmp.resolve("train/cat/z.png"), 0, 5, 4);
        Files.writeString(tmp.resolve("train/cat/notes.txt"), "ignored");
        ImageSet set = DataSets.open("image-folder", tmp, true, null);
        assertEquals(List.of("cat", "dog"), set.classNames());
        assertArrayEquals(new int[] {0, 1, 1}, set.labels());
        assertEquals(3, set.channels());
        assertEquals(4, set.height());
        assertEquals(5, set.width());
        int[] seeds = {0, 1, 2}; // cat/z, dog/a, dog/b
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        assertEquals(TestFiles.value(seeds[i], c, y, x), set.pixel(i, c, y, x));
                    }
                }
            }
        }
        ImageSet grey = DataSets.open("image-folder", tmp, true, Map.of("channels", 1));
        assertEquals(1, grey.channels());
        int r = TestFiles.value(1, 0, 2, 3);
        int g = TestFiles.value(1, 1, 2, 3);
        int b = TestFiles.value(1, 2, 2, 3);
        assertEquals((r * 299 + g * 587 + b * 114 + 500) / 1000, grey.pixel(1, 0, 2, 3));
    }

    @Test
    void sizeMismatchNamesTheFileUnlessResized() throws IOException {
        png(tmp.resolve("a/x.png"), 0, 5, 4);
        png(tmp.resolve("b/y.png"), 1, 8, 8);
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", tmp, true, null));
        assertEquals(tmp.resolve("b/y.png"), e.file());
        assertTrue(e.getMessage().contains("8x8"), e.getMessage());
        ImageSet set = DataSets.open("image-folder", tmp, true, Map.of("size", "6x7"));
        assertEquals(6, set.height());
        assertEquals(7, set.width());
        assertEquals(2, set.size());
    }

    @Test
    void undecodableImageIsNamed() throws IOException {
        Files.createDirectories(tmp.resolve("a"));
        Files.writeString(tmp.resolve("a/broken.png"), "not a png");
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () -> DataSets.open("image-folder", tmp, true, null));
        assertEquals(tmp.resolve("a/broken.png"), e.file());
    }
}
