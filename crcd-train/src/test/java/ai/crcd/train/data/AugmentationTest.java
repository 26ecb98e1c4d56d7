package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentationTest {

    private static final int C = 3;
    private static final int H = 6;
    private static final int W = 5;
    private static final float[] MEAN = {0.5f, 0.25f, 0.125f};
    private static final float[] STD = {0.2f, 0.4f, 0.5f};

    private static ImageSet set() {
        byte[] px = new byte[2 * C * H * W];
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < C; c++) {
                for (int y = 0; y < H; y++) {
                    for (int x = 0; x < W; x++) {
                        px[((i * C + c) * H + y) * W + x] = (byte) TestFiles.value(i, c, y, x);
                    }
                }
            }
        }
        return ImageSet.builder()
                .setName("t")
                .setShape(C, H, W)
                .setNumClasses(2)
                .setData(px, new int[] {0, 1})
                .optNormalization(MEAN, STD)
                .build();
    }

    /** Independent reference: pad with zeros, crop at (dy, dx), mirror, normalise in double. */
    private static double expected(
            ImageSet s, int i, int pad, int dy, int dx, boolean flip, int c, int y, int x) {
        int[][] padded = new int[H + 2 * pad][W + 2 * pad];
        for (int yy = 0; yy < H; yy++) {
            for (int xx = 0; xx < W; xx++) {
                padded[yy + pad][xx + pad] = s.pixel(i, c, yy, xx);
            }
        }
        int[][] crop = new int[H][W];
        for (int yy = 0; yy < H; yy++) {
            for (int xx = 0; xx < W; xx++) {
                crop[yy][xx] = padded[yy + dy][xx + dx];
            }
        }
        int v = flip ? crop[y][W - 1 - x] : crop[y][x];
        return (v / 255.0 - MEAN[c]) / STD[c];
    }

    private static float[] apply(Augmentation a, ImageSet s, int i, Augmentation.Draw d) {
        float[] out = new float[C * H * W];
        a.apply(s, i, d, Normalizer.of(s), out, 0);
        return out;
    }

    @Test
    void noneIsNormalisationOnly() {
        ImageSet s = set();
        Augmentation a = Augmentation.none();
        float[] out = apply(a, s, 1, a.draw(new SplittableRandom(1)));
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    assertEquals(
                            (s.pixel(1, c, y, x) / 255.0 - MEAN[c]) / STD[c],
                            out[(c * H + y) * W + x],
                            1e-5);
                }
            }
        }
    }

    @Test
    void flipMirrorsEveryRow() {
        ImageSet s = set();
        Augmentation a = Augmentation.of(0, true);
        float[] plain = apply(a, s, 0, new Augmentation.Draw(0, 0, false));
        float[] flipped = apply(a, s, 0, new Augmentation.Draw(0, 0, true));
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    assertEquals(
                            plain[(c * H + y) * W + (W - 1 - x)], flipped[(c * H + y) * W + x]);
                }
            }
        }
        assertFalse(Arrays.equals(plain, flipped));
        // the generator draws both outcomes, about half each
        int flips = 0;
        SplittableRandom rnd = new SplittableRandom(7);
        for (int k = 0; k < 1000; k++) {
            flips += a.draw(rnd).flip() ? 1 : 0;
        }
        assertTrue(flips > 400 && flips < 600, "flips " + flips);
    }

    @Test
    void cropsStayInsideThePaddedImageAndMatchTheReference() {
        ImageSet s = set();
        int pad = 2;
        Augmentation a = Augmentation.of(pad, true);
        SplittableRandom rnd = new SplittableRandom(3);
        boolean[][] seen = new boolean[2 * pad + 1][2 * pad + 1];
        for (int k = 0; k < 400; k++) {
            Augmentation.Draw d = a.draw(rnd);
            assertTrue(d.offsetY() >= 0 && d.offsetY() <= 2 * pad, "offsetY " + d.offsetY());
            assertTrue(d.offsetX() >= 0 && d.offsetX() <= 2 * pad, "offsetX " + d.offsetX());
            seen[d.offsetY()][d.offsetX()] = true;
            int i = k % 2;
            float[] out = apply(a, s, i, d);
            for (int c = 0; c < C; c++) {
                for (int y = 0; y < H; y++) {
                    for (int x = 0; x < W; x++) {
                        assertEquals(
                                expected(s, i, pad, d.offsetY(), d.offsetX(), d.flip(), c, y, x),
                                out[(c * H + y) * W + x],
                                1e-5);
                    }
                }
            }
        }
        for (boolean[] row : seen) {
            for (boolean b : row) {
                assertTrue(b, "every offset in 0..2*pad is drawn");
            }
        }
    }

    @Test
    void paddingIsZeroBeforeNormalisation() {
        ImageSet s = set();
        int pad = 2;
        Augmentation a = Augmentation.of(pad, false);
        float[] out = apply(a, s, 0, new Augmentation.Draw(0, 0, false)); // shifted down-right
        for (int c = 0; c < C; c++) {
            float padValue = (float) (-MEAN[c] / STD[c]);
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    float v = out[(c * H + y) * W + x];
                    if (y < pad || x < pad) {
                        assertEquals(padValue, v, 1e-6, "padding at c" + c + " y" + y + " x" + x);
                    } else {
                        assertEquals(
                                (s.pixel(0, c, y - pad, x - pad) / 255.0 - MEAN[c]) / STD[c],
                                v,
                                1e-5);
                    }
                }
            }
        }
    }

    @Test
    void seededDrawsRepeat() {
        Augmentation a = Augmentation.of(4, true);
        SplittableRandom r1 = new SplittableRandom(11);
        SplittableRandom r2 = new SplittableRandom(11);
        SplittableRandom r3 = new SplittableRandom(12);
        Augmentation.Draw[] d1 = new Augmentation.Draw[50];
        Augmentation.Draw[] d2 = new Augmentation.Draw[50];
        Augmentation.Draw[] d3 = new Augmentation.Draw[50];
        for (int k = 0; k < 50; k++) {
            d1[k] = a.draw(r1);
            d2[k] = a.draw(r2);
            d3[k] = a.draw(r3);
        }
        assertArrayEquals(d1, d2);
        assertFalse(Arrays.equals(d1, d3));
    }

    @Test
    void standardChoices() {
        ImageSet cifarLike = DataSets.synthetic(4, 2, 3, 32, 32, 0);
        assertEquals(4, Augmentation.standard(cifarLike).padding());
        assertTrue(Augmentation.standard(cifarLike).flip());
        ImageSet small = DataSets.synthetic(4, 2, 1, 28, 28, 0);
        assertEquals(2, Augmentation.standard(small).padding());
    }
}
