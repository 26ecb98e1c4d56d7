package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grey PNGs are read with their stored values (not converted through Java's linear grey). */
class GreyPngTest {

    @Test
    void greyPngKeepsItsValues(@TempDir Path root) throws Exception {
        for (String cls : new String[] {"a", "b"}) {
            BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
            int[] px = {0, 17, 100, 128, 200, 255};
            img.getRaster().setPixels(0, 0, 3, 2, px);
            Path dir = Files.createDirectories(root.resolve(cls));
            ImageIO.write(img, "png", dir.resolve("x.png").toFile());
        }
        ImageSet grey = ImageFolderFormat.read(root, "grey", 1, 0, 0);
        ImageSet rgb = ImageFolderFormat.read(root, "rgb", 3, 0, 0);
        int[] expected = {0, 17, 100, 128, 200, 255};
        for (int i = 0; i < 2; i++) {
            for (int p = 0; p < 6; p++) {
                assertEquals(expected[p], grey.pixel(i, 0, p / 3, p % 3));
                for (int c = 0; c < 3; c++) {
                    assertEquals(expected[p], rgb.pixel(i, c, p / 3, p % 3));
                }
            }
        }
    }
}
