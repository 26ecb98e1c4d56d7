package ai.crcd.core.crd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NegativeSamplerTest {

    /** 40 samples, 4 classes of uneven size, interleaved. */
    static int[] labels() {
        int[] l = new int[40];
        for (int i = 0; i < l.length; i++) {
            l[i] = i % 7 < 3 ? 0 : i % 7 < 5 ? 1 : i % 7 < 6 ? 2 : 3;
        }
        return l;
    }

    @Test
    void negativesAreOtherClassesWithoutReplacementAndPositionZeroIsTheSample() {
        int[] labels = labels();
        int k = 12;
        NegativeSampler s = new NegativeSampler(labels, 4, k, 42);
        assertTrue(s.classesWithReplacement().isEmpty());
        long[] batch = {0, 5, 6, 13, 39, 20};
        for (int rep = 0; rep < 50; rep++) {
            long[] out = s.sample(batch);
            assertEquals(batch.length * (k + 1), out.length);
            for (int b = 0; b < batch.length; b++) {
                int base = b * (k + 1);
                assertEquals(batch[b], out[base]);
                int own = labels[(int) batch[b]];
                Set<Long> seen = new HashSet<>();
                for (int j = 1; j <= k; j++) {
                    long n = out[base + j];
                    assertTrue(n >= 0 && n < labels.length);
                    assertNotEquals(own, labels[(int) n], "negative of the sample's own class");
                    assertTrue(seen.add(n), "duplicate negative without replacement");
                }
            }
        }
    }

    @Test
    void sameSeedSameNegativesOtherSeedOthers() {
        long[] batch = {3, 4, 17};
        NegativeSampler a = new NegativeSampler(labels(), 4, 10, 7);
        NegativeSampler b = new NegativeSampler(labels(), 4, 10, 7);
        NegativeSampler c = new NegativeSampler(labels(), 4, 10, 8);
        long[] a1 = a.sample(batch);
        assertArrayEquals(a1, b.sample(batch));
        assertFalse(Arrays.equals(a1, c.sample(batch)));
        // state restores the stream
        long state = a.randomState();
        long[] a2 = a.sample(batch);
        a.setRandomState(state);
        assertArrayEquals(a2, a.sample(batch));
        assertFalse(Arrays.equals(a1, a2));
    }

    @Test
    void drawsAreUniformOverOtherClassSamples() {
        int[] labels = labels();
        NegativeSampler s = new NegativeSampler(labels, 4, 5, 1);
        int[] counts = new int[labels.length];
        int draws = 20000;
        for (int i = 0; i < draws; i++) {
            long[] out = s.sample(new long[] {0}); // class 0: 18 samples, 22 negatives
            for (int j = 1; j <= 5; j++) {
                counts[(int) out[j]]++;
            }
        }
        int negatives = 0;
        for (int label : labels) {
            negatives += label != 0 ? 1 : 0;
        }
        double expected = draws * 5.0 / negatives;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] == 0) {
                assertEquals(0, counts[i]);
            } else {
                assertEquals(expected, counts[i], 5 * Math.sqrt(expected), "sample " + i);
            }
        }
    }

    @Test
    void fewerNegativesThanKDrawsWithReplacement() {
        int[] labels = {0, 0, 0, 1, 1, 2}; // class 0 has 3 negatives, class 1 has 4, class 2 has 5
        NegativeSampler s = new NegativeSampler(labels, 3, 4, 3);
        assertEquals(List.of(0), s.classesWithReplacement());
        long[] out = s.sample(new long[] {1, 3});
        assertEquals(1, out[0]);
        for (int j = 1; j <= 4; j++) {
            assertNotEquals(0, labels[(int) out[j]]);
        }
        Set<Long> seen = new HashSet<>();
        for (int j = 6; j <= 9; j++) {
            assertNotEquals(1, labels[(int) out[j]]);
            assertTrue(seen.add(out[j]));
        }
    }

    @Test
    void badInputIsNamed() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new NegativeSampler(new int[] {0, 5}, 3, 2, 0));
        assertTrue(e.getMessage().contains("sample 1") && e.getMessage().contains("5"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new NegativeSampler(new int[] {1, 1}, 3, 2, 0));
        assertTrue(e.getMessage().contains("two classes"));
        NegativeSampler s = new NegativeSampler(new int[] {0, 1}, 2, 1, 0);
        e = assertThrows(IllegalArgumentException.class, () -> s.sample(new long[] {2}));
        assertTrue(e.getMessage().contains("2"));
    }
}
