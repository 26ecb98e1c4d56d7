package ai.crcd.train;

import ai.crcd.train.data.BatchLoader;
import ai.crcd.train.data.IndexedBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/** Test fixture: in-memory images, class prototype plus noise, shuffled from (seed, epoch). */
final class SyntheticLoader implements BatchLoader {

    private final NDManager manager;
    private final float[][] images;
    private final int[] labels;
    private final int c;
    private final int s;
    private final int batch;
    private final boolean shuffle;
    private final long seed;

    SyntheticLoader(
            NDManager manager,
            int n,
            int classes,
            int c,
            int s,
            int batch,
            boolean shuffle,
            long dataSeed,
            long seed) {
        this.manager = manager;
        this.c = c;
        this.s = s;
        this.batch = batch;
        this.shuffle = shuffle;
        this.seed = seed;
        Random protoRng = new Random(12345);
        float[][] protos = new float[classes][c * s * s];
        for (float[] p : protos) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) protoRng.nextGaussian();
            }
        }
        Random rng = new Random(dataSeed);
        images = new float[n][];
        labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
            images[i] = new float[c * s * s];
            for (int j = 0; j < images[i].length; j++) {
                images[i][j] = protos[labels[i]][j] + 1.5f * (float) rng.nextGaussian();
            }
        }
    }

    /** A copy in native memory (arrays created from Java buffers may be freed by the GC). */
    private static NDArray nativeCopy(NDArray a) {
        NDArray c = a.duplicate();
        a.close();
        return c;
    }

    int[] labels() {
        return labels.clone();
    }

    @Override
    public Iterator<IndexedBatch> epoch(int epoch) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < images.length; i++) {
            order.add(i);
        }
        if (shuffle) {
            Collections.shuffle(order, new Random(seed * 1_000_003L + epoch));
        }
        return new Iterator<>() {
            int pos;

            @Override
            public boolean hasNext() {
                return pos < order.size();
            }

            @Override
            public IndexedBatch next() {
                int end = Math.min(order.size(), pos + batch);
                int b = end - pos;
                float[] x = new float[b * c * s * s];
                long[] y = new long[b];
                long[] idx = new long[b];
                for (int k = 0; k < b; k++) {
                    int i = order.get(pos + k);
                    System.arraycopy(images[i], 0, x, k * c * s * s, c * s * s);
                    y[k] = labels[i];
                    idx[k] = i;
                }
                pos = end;
                NDManager m = manager.newSubManager();
                return new IndexedBatch(
                        m,
                        nativeCopy(m.create(x, new Shape(b, c, s, s))),
                        nativeCopy(m.create(y)),
                        nativeCopy(m.create(idx)));
            }
        };
    }

    @Override
    public int batchesPerEpoch() {
        return (images.length + batch - 1) / batch;
    }

    @Override
    public int size() {
        return images.length;
    }

    @Override
    public void close() {}
}
