package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ImageLoaderTest {

    private static NDManager manager;
    private static final ImageSet DATA = DataSets.synthetic(103, 7, 3, 8, 6, 5);

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }

    private static ImageLoader.Builder loader() {
        return ImageLoader.builder()
                .setData(DATA)
                .setBatchSize(16)
                .setManager(manager)
                .optThreads(2)
                .optSeed(42);
    }

    /** True when the image is some pad-crop/flip of sample i (searched exhaustively). */
    private static boolean isAugmentationOf(float[] img, int off, int i, int pad) {
        Normalizer n = Normalizer.of(DATA);
        int c0 = DATA.channels();
        int h = DATA.height();
        int w = DATA.width();
        for (int dy = 0; dy <= 2 * pad; dy++) {
            for (int dx = 0; dx <= 2 * pad; dx++) {
                for (boolean flip : new boolean[] {false, true}) {
                    boolean ok = true;
                    for (int c = 0; c < c0 && ok; c++) {
                        for (int y = 0; y < h && ok; y++) {
                            for (int x = 0; x < w && ok; x++) {
                                int sy = y + dy - pad;
                                int sx = (flip ? w - 1 - x : x) + dx - pad;
                                int v =
                                        sy < 0 || sy >= h || sx < 0 || sx >= w
                                                ? 0
                                                : DATA.pixel(i, c, sy, sx);
                                ok = n.apply(c, v) == img[off + (c * h + y) * w + x];
                            }
                        }
                    }
                    if (ok) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static List<float[]> epochImages(ImageLoader l, int epoch, List<long[]> idx) {
        List<float[]> out = new ArrayList<>();
        Iterator<IndexedBatch> it = l.epoch(epoch);
        while (it.hasNext()) {
            try (IndexedBatch b = it.next()) {
                out.add(b.images().toFloatArray());
                if (idx != null) {
                    idx.add(b.indices().toLongArray());
                }
            }
        }
        return out;
    }

    @Test
    void everyIndexOncePerEpochAndLabelsImagesAgree() {
        try (ImageLoader l = loader().optAugment(Augmentation.of(2, true)).build()) {
            assertEquals(7, l.batchesPerEpoch());
            for (int epoch = 0; epoch < 2; epoch++) {
                int[] count = new int[DATA.size()];
                int batches = 0;
                Iterator<IndexedBatch> it = l.epoch(epoch);
                while (it.hasNext()) {
                    try (IndexedBatch b = it.next()) {
                        batches++;
                        int n = b.size();
                        assertEquals(batches == 7 ? 103 - 96 : 16, n);
                        assertEquals(new Shape(n, 3, 8, 6), b.images().getShape());
                        assertEquals(DataType.FLOAT32, b.images().getDataType());
                        assertEquals(DataType.INT64, b.labels().getDataType());
                        assertEquals(DataType.INT64, b.indices().getDataType());
                        assertEquals(manager.getDevice(), b.images().getDevice());
                        long[] idx = b.indices().toLongArray();
                        long[] lab = b.labels().toLongArray();
                        float[] img = b.images().toFloatArray();
                        for (int k = 0; k < n; k++) {
                            int i = (int) idx[k];
                            count[i]++;
                            assertEquals(DATA.label(i), lab[k]);
                            assertTrue(
                                    isAugmentationOf(img, k * 144, i, 2),
                                    "image " + k + " is not an augmentation of sample " + i);
                        }
                    }
                }
                assertEquals(7, batches);
                for (int c : count) {
                    assertEquals(1, c);
                }
            }
            // shuffled: the order is not the identity and differs between epochs
            assertFalse(Arrays.equals(l.order(0), l.order(1)));
        }
    }

    @Test
    void evaluationIsNormalisationOnlyInFileOrder() {
        try (ImageLoader l = loader().optShuffle(false).optAugment(false).build()) {
            List<long[]> idx = new ArrayList<>();
            List<float[]> imgs = epochImages(l, 0, idx);
            Normalizer n = Normalizer.of(DATA);
            int pos = 0;
            for (int b = 0; b < imgs.size(); b++) {
                for (int k = 0; k < idx.get(b).length; k++, pos++) {
                    assertEquals(pos, idx.get(b)[k]);
                    for (int j = 0; j < 144; j++) {
                        int c = j / 48;
                        int v = DATA.pixels()[pos * 144 + j] & 0xFF;
                        assertEquals(
                                (v / 255.0 - DATA.mean()[c]) / DATA.std()[c],
                                imgs.get(b)[k * 144 + j],
                                1e-5);
                        assertEquals(n.apply(c, v), imgs.get(b)[k * 144 + j]);
                    }
                }
            }
            assertEquals(103, pos);
        }
    }

    @Test
    void sameSeedSameBatchesOtherSeedOthers() {
        List<long[]> i1 = new ArrayList<>();
        List<long[]> i2 = new ArrayList<>();
        List<long[]> i3 = new ArrayList<>();
        List<float[]> a;
        List<float[]> b;
        List<float[]> c;
        try (ImageLoader l1 = loader().optAugment(true).build();
                ImageLoader l2 = loader().optAugment(true).optThreads(0).build();
                ImageLoader l3 = loader().optAugment(true).optSeed(43).build()) {
            a = epochImages(l1, 3, i1);
            b = epochImages(l2, 3, i2); // no threads: same result as with threads
            c = epochImages(l3, 3, i3);
        }
        for (int k = 0; k < a.size(); k++) {
            assertArrayEquals(i1.get(k), i2.get(k));
            assertArrayEquals(a.get(k), b.get(k));
        }
        assertFalse(Arrays.equals(i1.get(0), i3.get(0)));
        // same order, different seed: augmentation differs too
        try (ImageLoader u1 = loader().optShuffle(false).optAugment(true).build();
                ImageLoader u2 = loader().optShuffle(false).optAugment(true).optSeed(7).build()) {
            assertFalse(
                    Arrays.equals(
                            epochImages(u1, 0, null).get(0), epochImages(u2, 0, null).get(0)));
            assertFalse(
                    Arrays.equals(epochImages(u1, 0, null).get(0), epochImages(u1, 1, null).get(0)),
                    "epochs differ");
        }
    }

    @Test
    void dropLastAndThreadsStopOnClose() {
        ImageLoader l = loader().optDropLast(true).optThreads(3).optPrefetch(2).build();
        assertEquals(6, l.batchesPerEpoch());
        Iterator<IndexedBatch> it = l.epoch(0);
        int n = 0;
        while (it.hasNext()) {
            try (IndexedBatch b = it.next()) {
                assertEquals(16, b.size());
                n++;
            }
        }
        assertEquals(6, n);
        l.epoch(1).next().close(); // abandon an epoch with batches in flight
        List<Thread> workers = List.copyOf(l.workerThreads());
        assertEquals(3, workers.size());
        assertTrue(workers.stream().anyMatch(Thread::isAlive));
        l.close();
        for (Thread t : workers) {
            assertFalse(t.isAlive(), t.getName() + " still running after close");
        }
        assertThrows(IllegalStateException.class, () -> l.epoch(2));
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> loader().setBatchSize(0).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> loader().setBatchSize(200).optDropLast(true).build());
    }

    @Test
    void djlDatasetFacadeCarriesImageLabelAndIndex() throws Exception {
        ImageSetDataset ds =
                ImageSetDataset.builder()
                        .setImageSet(DATA)
                        .setSampling(10, false)
                        .optAugmentation(Augmentation.of(2, true))
                        .optSeed(1)
                        .build();
        assertEquals(103, ds.size());
        int seen = 0;
        try (NDManager m = manager.newSubManager()) {
            for (Batch b : ds.getData(m)) {
                NDArray img = b.getData().head();
                NDArray lab = b.getLabels().get(0);
                NDArray idx = b.getLabels().get(1);
                int n = (int) idx.size();
                assertEquals(new Shape(n, 3, 8, 6), img.getShape());
                long[] ii = idx.toLongArray();
                long[] ll = lab.toLongArray();
                float[] f = img.toFloatArray();
                for (int k = 0; k < n; k++) {
                    assertEquals(seen + k, ii[k]);
                    assertEquals(DATA.label((int) ii[k]), ll[k]);
                    assertTrue(isAugmentationOf(f, k * 144, (int) ii[k], 2));
                }
                seen += n;
                b.close();
            }
        }
        assertEquals(103, seen);
        ImageSetDataset plain =
                ImageSetDataset.builder()
                        .setImageSet(DATA)
                        .setSampling(4, false)
                        .optIncludeIndex(false)
                        .build();
        try (NDManager m = manager.newSubManager()) {
            assertEquals(1, plain.get(m, 5).getLabels().size());
            assertEquals(5 % 7, plain.get(m, 5).getLabels().head().getLong());
        }
    }
}
