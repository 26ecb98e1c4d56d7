package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RepresentationQueueTest {

    /** Rows valued (v, -v) for v = from, from+1, ... */
    private static NDArray rows(NDManager m, int from, int count) {
        float[] f = new float[count * 2];
        for (int i = 0; i < count; i++) {
            f[2 * i] = from + i;
            f[2 * i + 1] = -(from + i);
        }
        return m.create(f, new Shape(count, 2));
    }

    private static float[] firstColumn(NDArray a) {
        return a.get(":, 0").toFloatArray();
    }

    @Test
    void queueIsFifoWithCapacityAndWarmUp() {
        try (NDManager m = NDManager.newBaseManager()) {
            RepresentationQueue q = RepresentationQueue.queue(m, 5, 2, DataType.FLOAT32);
            // warm-up: empty, then only the filled entries
            assertEquals(0, q.size());
            assertEquals(new Shape(0, 2), q.negatives(m).getShape());
            q.update(rows(m, 0, 2), null);
            assertEquals(2, q.size());
            assertArrayEquals(new float[] {0, 1}, firstColumn(q.negatives(m)));
            q.update(rows(m, 2, 2), null);
            assertArrayEquals(new float[] {0, 1, 2, 3}, firstColumn(q.entries(m)));
            // wraps around: the oldest are replaced, capacity stays N
            q.update(rows(m, 4, 2), null);
            assertEquals(5, q.size());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5}, firstColumn(q.entries(m)));
            q.update(rows(m, 6, 2), null);
            assertArrayEquals(new float[] {3, 4, 5, 6, 7}, firstColumn(q.entries(m)));
            assertEquals(new Shape(5, 2), q.negatives(m).getShape());
            Set<Float> got = new HashSet<>();
            for (float f : firstColumn(q.negatives(m))) {
                got.add(f);
            }
            assertEquals(Set.of(3f, 4f, 5f, 6f, 7f), got);
            // a batch larger than N keeps its newest N rows
            q.update(rows(m, 10, 7), null);
            assertArrayEquals(new float[] {12, 13, 14, 15, 16}, firstColumn(q.entries(m)));
            assertArrayEquals(
                    new float[] {-12, -13, -14, -15, -16}, q.entries(m).get(":, 1").toFloatArray());
        }
    }

    @Test
    void queueCarriesNoGradientAndReturnsCopies() {
        try (NDManager m = NDManager.newBaseManager()) {
            RepresentationQueue q = RepresentationQueue.queue(m, 3, 2, DataType.FLOAT32);
            NDArray x = rows(m, 1, 3);
            x.setRequiresGradient(true);
            q.update(x.mul(2), null);
            NDArray neg = q.negatives(m);
            assertFalse(neg.hasGradient());
            assertArrayEquals(new float[] {2, 4, 6}, firstColumn(neg));
            q.update(rows(m, 9, 3), null); // a later update does not change this step's negatives
            assertArrayEquals(new float[] {2, 4, 6}, firstColumn(neg));
        }
    }

    @Test
    void randomPolicyReadsTheSampledIndices() {
        try (NDManager m = NDManager.newBaseManager()) {
            RepresentationQueue q = RepresentationQueue.random(m, 3, 2, 10, 5, DataType.FLOAT32);
            assertEquals(0, q.negatives(m).getShape().get(0));
            NDArray idx = m.create(new long[] {2, 5});
            q.update(m.create(new float[] {2, -2, 5, -5}, new Shape(2, 2)), idx);
            assertEquals(2, q.size()); // warm-up: only written samples are read
            q.update(
                    m.create(new float[] {7, -7, 9, -9, 5, -5}, new Shape(3, 2)),
                    m.create(new long[] {7, 9, 5}));
            assertEquals(3, q.size());
            Set<Long> allSampled = new HashSet<>();
            for (int step = 0; step < 20; step++) {
                NDArray neg = q.negatives(m);
                long[] sampled = q.lastSampledIndices();
                assertEquals(3, sampled.length);
                assertEquals(
                        3, new HashSet<>(java.util.Arrays.stream(sampled).boxed().toList()).size());
                float[] col = firstColumn(neg);
                for (int k = 0; k < 3; k++) {
                    assertTrue(Set.of(2L, 5L, 7L, 9L).contains(sampled[k]));
                    assertEquals(sampled[k], col[k], 0); // row k is the memory entry of index k
                    allSampled.add(sampled[k]);
                }
            }
            assertEquals(Set.of(2L, 5L, 7L, 9L), allSampled);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> q.update(m.zeros(new Shape(1, 2)), m.create(new long[] {10})));
        }
    }

    @Test
    void stateRoundTrip() {
        try (NDManager m = NDManager.newBaseManager()) {
            RepresentationQueue q = RepresentationQueue.queue(m, 4, 2, DataType.FLOAT32);
            q.update(rows(m, 0, 3), null);
            q.update(rows(m, 3, 3), null);
            NDList st = q.state();
            RepresentationQueue r = RepresentationQueue.queue(m, 4, 2, DataType.FLOAT32);
            r.loadState(st);
            assertArrayEquals(firstColumn(q.entries(m)), firstColumn(r.entries(m)));
            r.update(rows(m, 6, 1), null);
            assertArrayEquals(new float[] {3, 4, 5, 6}, firstColumn(r.entries(m)));
            RepresentationQueue other = RepresentationQueue.queue(m, 5, 2, DataType.FLOAT32);
            var e = assertThrows(IllegalArgumentException.class, () -> other.loadState(st));
            assertTrue(e.getMessage().contains("buffer"));

            RepresentationQueue rq = RepresentationQueue.random(m, 2, 2, 6, 1, DataType.FLOAT32);
            rq.update(m.create(new float[] {4, -4}, new Shape(1, 2)), m.create(new long[] {4}));
            RepresentationQueue rq2 = RepresentationQueue.random(m, 2, 2, 6, 1, DataType.FLOAT32);
            rq2.loadState(rq.state());
            assertEquals(1, rq2.size());
            assertArrayEquals(new float[] {4}, firstColumn(rq2.negatives(m)));
        }
    }

    /** Writes rows valued (i, -i) for the sample indices i. */
    private static void write(NDManager m, RepresentationQueue q, long... idx) {
        float[] f = new float[idx.length * 2];
        for (int i = 0; i < idx.length; i++) {
            f[2 * i] = idx[i];
            f[2 * i + 1] = -idx[i];
        }
        q.update(m.create(f, new Shape(idx.length, 2)), m.create(idx));
    }

    @Test
    void randomPolicyResumedFromStateDrawsAsTheUninterruptedBuffer() {
        try (NDManager m = NDManager.newBaseManager()) {
            RepresentationQueue full = RepresentationQueue.random(m, 3, 2, 40, 9, DataType.FLOAT32);
            // a few steps: read, then write the batch (as CrcdDistiller does)
            for (int step = 0; step < 6; step++) {
                full.negatives(m);
                write(m, full, 4L * step, 4L * step + 1, 4L * step + 2, 4L * step + 3);
            }
            // "checkpoint", then a fresh buffer restored from it (as a resumed run builds it)
            NDList st = full.state();
            RepresentationQueue resumed =
                    RepresentationQueue.random(m, 3, 2, 40, 9, DataType.FLOAT32);
            resumed.loadState(st);
            for (int step = 6; step < 16; step++) {
                float[] a = firstColumn(full.negatives(m));
                float[] b = firstColumn(resumed.negatives(m));
                assertArrayEquals(
                        full.lastSampledIndices(), resumed.lastSampledIndices(), "step " + step);
                assertArrayEquals(a, b, "step " + step);
                long i = 24 + (step - 6) % 10;
                write(m, full, i);
                write(m, resumed, i);
            }
            // the draws do vary from step to step (the comparison above is not trivial)
            Set<List<Long>> distinct = new HashSet<>();
            for (int k = 0; k < 10; k++) {
                full.negatives(m);
                distinct.add(java.util.Arrays.stream(full.lastSampledIndices()).boxed().toList());
            }
            assertTrue(distinct.size() > 5, "draws " + distinct);
        }
    }
}
