package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DataSetsTest {

    @Test
    void names() {
        assertEquals(
                List.of(
                        "cifar100",
                        "cifar10",
                        "fashion-mnist",
                        "mnist",
                        "image-folder",
                        "synthetic",
                        "imagenet-folder"),
                DataSets.names());
    }

    @Test
    void unknownNameOrOptionIsRejected() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DataSets.open("cifar1000", null, true, null));
        assertTrue(e.getMessage().contains("cifar1000") && e.getMessage().contains("cifar100"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DataSets.open("synthetic", null, true, Map.of("coarse", true)));
        assertTrue(e.getMessage().contains("'coarse'"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DataSets.open("synthetic", null, true, Map.of("size", "many")));
        assertTrue(e.getMessage().contains("'size'"), e.getMessage());
    }

    @Test
    void syntheticIsDeterministicAndClassDependent() {
        ImageSet a = DataSets.synthetic(40, 4, 3, 8, 8, 9);
        ImageSet b = DataSets.synthetic(40, 4, 3, 8, 8, 9);
        assertArrayEquals(a.pixels(), b.pixels());
        assertEquals(3, a.label(7));
        // class means differ far more than samples of one class from their class mean
        double[][] means = new double[4][a.imageSize()];
        for (int i = 0; i < 40; i++) {
            for (int j = 0; j < a.imageSize(); j++) {
                means[a.label(i)][j] += (a.pixels()[i * a.imageSize() + j] & 0xFF) / 10.0;
            }
        }
        double between = 0;
        for (int j = 0; j < a.imageSize(); j++) {
            between += Math.abs(means[0][j] - means[1][j]);
        }
        assertTrue(between / a.imageSize() > 20, "classes differ: " + between / a.imageSize());
    }

    @Test
    void subsetAndFirstPerClassKeepSourceIndices() {
        ImageSet s =
                DataSets.open(
                        "synthetic",
                        null,
                        true,
                        Map.of("size", 30, "classes", 3, "height", 4, "width", 4));
        ImageSet few = s.firstPerClass(2);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, few.sourceIndices());
        ImageSet sub = s.subset(new int[] {7, 2});
        assertArrayEquals(new int[] {7, 2}, sub.sourceIndices());
        assertEquals(s.label(7), sub.label(0));
        for (int j = 0; j < s.imageSize(); j++) {
            assertEquals(s.pixels()[7 * s.imageSize() + j], sub.pixels()[j]);
        }
        assertArrayEquals(s.mean(), sub.mean());
        assertEquals(
                6,
                DataSets.open(
                                "synthetic",
                                null,
                                true,
                                Map.of("size", 30, "classes", 3, "perClass", 2))
                        .size());
    }

    @Test
    void computedStatsMatchPlainArithmetic() {
        ImageSet s = DataSets.synthetic(10, 2, 2, 3, 3, 1);
        float[][] st = s.computeStats();
        for (int c = 0; c < 2; c++) {
            double sum = 0;
            double sq = 0;
            for (int i = 0; i < 10; i++) {
                for (int p = 0; p < 9; p++) {
                    double v = s.pixel(i, c, p / 3, p % 3) / 255.0;
                    sum += v;
                    sq += v * v;
                }
            }
            double m = sum / 90;
            assertEquals(m, st[0][c], 1e-6);
            assertEquals(Math.sqrt(sq / 90 - m * m), st[1][c], 1e-6);
        }
        assertArrayEquals(st[0], s.mean());
    }
}
