package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config's {@code data.test_split} and {@code data.options}: one clear line for a bad value,
 * and the standard catalog opening both splits of an image folder consistently.
 */
class DataConfigTest {

    private static final String IMAGES =
            "kind: train\nmodel: {name: resnet8}\ndata: {name: image-folder, root: %s%s}\n";

    private static String error(String yaml) {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.fromString(yaml, List.of(), Catalog.standard()));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badTestSplitOrOptionIsOneLineNamingTheKey() {
        String m = error(String.format(IMAGES, "imgs", ", test_split: holdout:1.5"));
        assertTrue(
                m.startsWith("<config>: data.test_split: got 'holdout:1.5', allowed: folder"), m);
        m = error(String.format(IMAGES, "imgs", ", test_split: none"));
        assertTrue(m.contains("holdout:F with 0 < F < 1"), m);
        m = error(String.format(IMAGES, "imgs", ", options: {size: 32, grayscale: true}"));
        assertEquals(
                "<config>: data.options.grayscale: unknown option of data set"
                        + " 'image-folder', allowed: [channels, size]",
                m);
        m = error(String.format(IMAGES, "imgs", ", options: {channels: 2}"));
        assertEquals("<config>: data.options.channels: got '2', allowed: 1 (grey) or 3 (RGB)", m);
        m = error(String.format(IMAGES, "null", ""));
        assertTrue(m.startsWith("<config>: data.root: got 'null'"), m);
        m =
                error(
                        "kind: train\nmodel: {name: resnet8}\ndata: {name: cifar100,"
                                + " options: {perClass: 5}}\n");
        assertTrue(m.contains("data.subset_per_class"), m);

        RunConfig ok =
                ConfigLoader.fromString(
                        String.format(
                                IMAGES,
                                "imgs",
                                ", test_split: holdout:0.1," + " options: {size: 32, channels: 1}"),
                        List.of("data.options.size=\"24x24\""),
                        Catalog.standard());
        assertEquals("holdout:0.1", ok.data.testSplit);
        assertEquals(Map.of("size", "24x24", "channels", 1), ok.data.options);
        RunConfig defaults =
                ConfigLoader.fromString(
                        "kind: train\nmodel: {name: resnet8}\n", List.of(), Catalog.standard());
        assertEquals("folder", defaults.data.testSplit);
        assertTrue(ConfigLoader.toYaml(defaults).contains("test_split: folder"));
    }

    private static void png(Path file, int grey) throws IOException {
        BufferedImage img = new BufferedImage(6, 6, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                int v = Math.min(255, grey + x + y);
                img.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    @Test
    void standardCatalogOpensBothSplitsOfAnImageFolder(@TempDir Path dir) throws IOException {
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 4; i++) {
                png(dir.resolve("c" + k).resolve(i + ".png"), 60 * k + i);
            }
        }
        String yaml = String.format(IMAGES, dir, ", options: {size: 8, channels: 1}");
        RunConfig flat = ConfigLoader.fromString(yaml, List.of(), Catalog.standard());
        try (NDManager m = NDManager.newBaseManager()) {
            ConfigException e =
                    assertThrows(
                            ConfigException.class,
                            () -> Catalog.standard().openSplits(flat.data, 1, m));
            assertTrue(
                    e.getMessage().startsWith("data: cannot open 'image-folder' ("),
                    e.getMessage());
            assertTrue(e.getMessage().contains("data.test_split: holdout:0.1"), e.getMessage());

            RunConfig held =
                    ConfigLoader.fromString(
                            yaml, List.of("data.test_split=holdout:0.25"), Catalog.standard());
            Catalog.Splits s = Catalog.standard().openSplits(held.data, 1, m);
            assertEquals(9, s.train().loader().size());
            assertEquals(3, s.test().loader().size());
            assertArrayEquals(new int[] {0, 1, 2}, s.test().labels());
            assertEquals(1, s.train().channels());
            assertEquals(8, s.test().height());
            assertEquals(3, s.test().numClasses());
            s.train().loader().close();
            s.test().loader().close();
        }
    }
}
