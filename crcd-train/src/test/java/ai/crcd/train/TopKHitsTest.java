package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.LambdaBlock;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Top-k ranking: ties and non-finite logits are misses; the counts equal a plain-Java ranking; the
 * loop's evaluation of a dead or NaN network reports 0 %, not 100 %.
 */
class TopKHitsTest {

    private static final int C = 10;

    /** Plain Java: finite row and fewer than k other classes with a logit >= the true one. */
    private static boolean refHit(float[] row, int label, int k) {
        for (float v : row) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        int atLeast = 0;
        for (int j = 0; j < row.length; j++) {
            if (j != label && row[j] >= row[label]) {
                atLeast++;
            }
        }
        return atLeast < k;
    }

    private static long[] refCounts(float[][] rows, int[] labels, int... ks) {
        long[] out = new long[ks.length];
        for (int i = 0; i < ks.length; i++) {
            for (int n = 0; n < rows.length; n++) {
                out[i] += refHit(rows[n], labels[n], ks[i]) ? 1 : 0;
            }
        }
        return out;
    }

    private static NDArray nd(NDManager m, float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        }
        return m.create(flat, new Shape(rows.length, rows[0].length));
    }

    private static NDArray labels(NDManager m, int[] labels) {
        long[] l = new long[labels.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels[i];
        }
        return m.create(l);
    }

    private static final int[] ALL_K = {1, 2, 3, 5, 9, 10, 11};

    @Test
    void randomLogitsMatchPlainJavaRanking() {
        Random r = new Random(11);
        int b = 200;
        float[][] rows = new float[b][C];
        int[] y = new int[b];
        for (int n = 0; n < b; n++) {
            for (int j = 0; j < C; j++) {
                // coarse values so that some ties occur naturally
                rows[n][j] = (float) Math.rint(r.nextGaussian() * 4) / 2f;
            }
            y[n] = r.nextInt(C);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            long[] got = TopKHits.counts(nd(m, rows), labels(m, y), ALL_K).toLongArray();
            long[] want = refCounts(rows, y, ALL_K);
            assertArrayEquals(want, got);
            // the data exercise the ranking: neither all hits nor all misses at top-1 / top-5
            assertTrue(want[0] > 10 && want[0] < b - 10, "top-1 " + want[0]);
            assertTrue(want[3] > want[0] && want[3] < b, "top-5 " + want[3]);
            boolean[] perSample = TopKHits.hits(nd(m, rows), labels(m, y), 3).toBooleanArray();
            for (int n = 0; n < b; n++) {
                assertEquals(refHit(rows[n], y[n], 3), perSample[n], "sample " + n);
            }
            // float64 logits rank the same way
            NDArray f64 = nd(m, rows).toType(DataType.FLOAT64, false);
            assertArrayEquals(want, TopKHits.counts(f64, labels(m, y), ALL_K).toLongArray());
        }
    }

    @Test
    void tiesCountAgainstTheSample() {
        float[][] rows = new float[4][C];
        // all equal: 9 other classes tie with the truth -> a hit only for k >= 10
        java.util.Arrays.fill(rows[0], 0.7f);
        // truth 2.0 tied with two others, one class above: 3 others >= truth
        rows[1] = new float[] {1, 2, 3, 2, 2, 0, 0, 0, 0, 0};
        // truth is the unique maximum
        rows[2] = new float[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
        // truth tied with exactly one other class at the top
        rows[3] = new float[] {4, 4, 0, 0, 0, 0, 0, 0, 0, 0};
        int[] y = {4, 1, 9, 0};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = nd(m, rows);
            NDArray l = labels(m, y);
            assertArrayEquals(
                    new boolean[] {false, false, true, false},
                    TopKHits.hits(logits, l, 1).toBooleanArray());
            assertArrayEquals(
                    new boolean[] {false, false, true, true},
                    TopKHits.hits(logits, l, 2).toBooleanArray());
            assertArrayEquals(
                    new boolean[] {false, false, true, true},
                    TopKHits.hits(logits, l, 3).toBooleanArray());
            assertArrayEquals(
                    new boolean[] {false, true, true, true},
                    TopKHits.hits(logits, l, 4).toBooleanArray());
            assertArrayEquals(
                    new boolean[] {false, true, true, true},
                    TopKHits.hits(logits, l, 9).toBooleanArray());
            assertArrayEquals(
                    new boolean[] {true, true, true, true},
                    TopKHits.hits(logits, l, 10).toBooleanArray());
            assertArrayEquals(
                    refCounts(rows, y, ALL_K), TopKHits.counts(logits, l, ALL_K).toLongArray());
        }
    }

    @Test
    void allZeroLogitsScoreZeroBelowTheClassCount() {
        int b = 30;
        float[][] rows = new float[b][C];
        int[] y = new int[b];
        for (int n = 0; n < b; n++) {
            y[n] = n % C;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            assertArrayEquals(
                    new long[] {0, 0, b},
                    TopKHits.counts(nd(m, rows), labels(m, y), 1, 5, 10).toLongArray());
        }
    }

    @Test
    void nanAndInfiniteLogitsAreMisses() {
        float[][] rows = new float[6][C];
        for (float[] row : rows) {
            for (int j = 0; j < C; j++) {
                row[j] = -j;
            }
        }
        int[] y = new int[6]; // truth 0 is the unique maximum of every row before the edits
        rows[0][0] = Float.NaN; // truth NaN
        rows[1][7] = Float.NaN; // another class NaN
        rows[2][0] = Float.POSITIVE_INFINITY; // truth +inf
        rows[3][3] = Float.NEGATIVE_INFINITY; // another class -inf (would not outrank the truth)
        rows[4][5] = Float.POSITIVE_INFINITY; // another class +inf
        // rows[5] stays finite: the only hit
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = nd(m, rows);
            NDArray l = labels(m, y);
            boolean[] want = {false, false, false, false, false, true};
            for (int k : ALL_K) {
                assertArrayEquals(want, TopKHits.hits(logits, l, k).toBooleanArray(), "k=" + k);
            }
            assertArrayEquals(
                    new long[] {1, 1, 1}, TopKHits.counts(logits, l, 1, 5, 11).toLongArray());
            // every logit NaN (a diverged network)
            NDArray nan = m.full(new Shape(6, C), Float.NaN);
            assertArrayEquals(new long[] {0, 0}, TopKHits.counts(nan, l, 1, 5).toLongArray());
        }
    }

    @Test
    void badArgumentsAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.zeros(new Shape(2, C));
            NDArray l = m.create(new long[] {0, 1});
            assertThrows(IllegalArgumentException.class, () -> TopKHits.hits(logits, l, 0));
            assertThrows(IllegalArgumentException.class, () -> TopKHits.counts(logits, l));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> TopKHits.counts(logits, m.create(new long[] {0}), 1));
        }
    }

    /** A network that outputs the same logits for every image, or NaN. */
    private static LambdaBlock constant(float value) {
        return new LambdaBlock(
                in -> {
                    NDArray x = in.singletonOrThrow();
                    long b = x.getShape().get(0);
                    return new NDList(
                            x.reshape(b, -1)
                                    .sum(new int[] {1}, true)
                                    .mul(0)
                                    .add(value)
                                    .repeat(1, C)); // (B, C)
                });
    }

    @Test
    void evaluationOfADeadOrNanNetworkIsZeroPercent() {
        try (NDManager root = NDManager.newBaseManager()) {
            SyntheticLoader test = new SyntheticLoader(root, 50, C, 1, 4, 16, false, 2, 1);
            ParameterStore ps = new ParameterStore(root, false);
            double[] dead = TrainingRun.evaluate(constant(0f), ps, test, C, root);
            assertArrayEquals(new double[] {0, 0}, dead, 0);
            double[] nan = TrainingRun.evaluate(constant(Float.NaN), ps, test, C, root);
            assertArrayEquals(new double[] {0, 0}, nan, 0);
            test.close();
        }
    }
}
