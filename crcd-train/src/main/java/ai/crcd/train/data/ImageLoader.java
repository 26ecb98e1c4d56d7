package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fast loader over an {@link ImageSet} held as uint8. Background threads assemble each batch on
 * the host (shuffled order, random crop + flip on the byte images, normalisation through a lookup
 * table into one float buffer); the consumer thread then makes one NDArray per tensor on the
 * manager's device. Up to {@code prefetch} batches are prepared ahead.
 *
 * <p>Each batch: images (B, C, H, W) float32 normalised, labels (B) int64, indices (B) int64 = the
 * sample positions in the {@link ImageSet}. Without drop-last every index appears exactly once per
 * epoch (the last batch may be smaller).
 *
 * <p>Deterministic: the order of epoch {@code e} comes from a generator seeded by (seed, e), and
 * the augmentation of batch {@code b} from one seeded by (seed, e, b), independent of thread
 * timing; the same seed and epoch give the same batches, other seeds other ones.
 *
 * <p>{@link #close()} stops the worker threads; batches already returned stay valid (they are
 * closed by the caller).
 */
public final class ImageLoader implements BatchLoader {

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final ImageSet data;
    private final int batchSize;
    private final NDManager manager;
    private final boolean shuffle;
    private final Augmentation augmentation;
    private final long seed;
    private final boolean dropLast;
    private final int prefetch;
    private final Normalizer normalizer;
    private final ExecutorService pool;
    private final List<Thread> workers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private ImageLoader(Builder b) {
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.manager = b.manager;
        this.shuffle = b.shuffle;
        this.augmentation = b.augmentation;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.prefetch = b.prefetch;
        this.normalizer = Normalizer.of(data);
        if (b.threads > 0) {
            int id = POOL_IDS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            ThreadFactory tf =
                    r -> {
                        Thread t = new Thread(r, "crcd-loader-" + id + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        workers.add(t);
                        return t;
                    };
            this.pool = Executors.newFixedThreadPool(b.threads, tf);
        } else {
            this.pool = null;
        }
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the data set.
     *
     * @return the set
     */
    public ImageSet data() {
        return data;
    }

    /**
     * Returns the augmentation applied to every batch.
     *
     * @return the augmentation ({@link Augmentation#none()} for evaluation)
     */
    public Augmentation augmentation() {
        return augmentation;
    }

    @Override
    public int size() {
        return data.size();
    }

    @Override
    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /**
     * Returns the sample order of an epoch: a permutation of {@code 0..N-1} (identity without
     * shuffling).
     *
     * @param epoch the epoch
     * @return (N) sample indices in batch order
     */
    public int[] order(int epoch) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rnd = new SplittableRandom(mix(seed, epoch, -1));
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    @Override
    public Iterator<IndexedBatch> epoch(int epoch) {
        if (closed) {
            throw new IllegalStateException("ImageLoader is closed");
        }
        return new EpochIterator(epoch);
    }

    @Override
    public void close() {
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
            try {
                if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("loader threads did not stop in 10 s");
                }
                for (Thread t : workers) {
                    t.join(10_000); // a terminated pool's threads may still be exiting
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The worker threads started so far (for tests). */
    List<Thread> workerThreads() {
        return workers;
    }

    /**
     * Assembles one batch on the host (no NDArrays): usable from any thread.
     *
     * @param epoch the epoch (seeds the augmentation)
     * @param batch the batch number within the epoch
     * @param order the epoch order from {@link #order(int)}
     * @return the host batch
     */
    HostBatch assemble(int epoch, int batch, int[] order) {
        int from = batch * batchSize;
        int b = Math.min(batchSize, order.length - from);
        int d = data.imageSize();
        float[] images = new float[b * d];
        long[] labels = new long[b];
        long[] indices = new long[b];
        SplittableRandom rnd = new SplittableRandom(mix(seed, epoch, batch));
        for (int k = 0; k < b; k++) {
            int i = order[from + k];
            indices[k] = i;
            labels[k] = data.label(i);
            augmentation.apply(data, i, augmentation.draw(rnd), normalizer, images, k * d);
        }
        return new HostBatch(images, labels, indices);
    }

    private IndexedBatch toBatch(HostBatch h) {
        NDManager m = manager.newSubManager();
        int b = h.labels.length;
        NDArray images =
                m.create(h.images, new Shape(b, data.channels(), data.height(), data.width()));
        NDArray labels = m.create(h.labels);
        NDArray indices = m.create(h.indices);
        images.setName("images");
        labels.setName("labels");
        indices.setName("indices");
        return new IndexedBatch(m, images, labels, indices);
    }

    /** A 64-bit mix of (seed, epoch, batch): the seed of one batch (batch -1: the epoch order). */
    static long mix(long seed, long epoch, long batch) {
        long z = seed * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 31)) + epoch * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 29)) + batch * 0x94D049BB133111EBL;
        return z ^ (z >>> 32);
    }

    /** A batch on the host: flattened (B, C, H, W) images, (B) labels, (B) indices. */
    record HostBatch(float[] images, long[] labels, long[] indices) {}

    private final class EpochIterator implements Iterator<IndexedBatch> {
        private final int epoch;
        private final int[] order;
        private final int count;
        private final ArrayDeque<CompletableFuture<HostBatch>> ahead = new ArrayDeque<>();
        private int submitted;
        private int taken;

        EpochIterator(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.count = batchesPerEpoch();
            fill();
        }

        private void fill() {
            if (pool == null) {
                return;
            }
            while (submitted < count && ahead.size() < prefetch) {
                int b = submitted++;
                ahead.add(CompletableFuture.supplyAsync(() -> assemble(epoch, b, order), pool));
            }
        }

        @Override
        public boolean hasNext() {
            return taken < count;
        }

        @Override
        public IndexedBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (closed) {
                throw new IllegalStateException("ImageLoader is closed");
            }
            HostBatch h;
            if (pool == null) {
                h = assemble(epoch, taken, order);
            } else {
                CompletableFuture<HostBatch> f = ahead.poll();
                try {
                    h = f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a batch", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(
                            "loader thread failed on batch " + taken + ": " + e.getCause(),
                            e.getCause());
                }
            }
            taken++;
            fill();
            return toBatch(h);
        }
    }

    /** Builder for {@link ImageLoader}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private ImageSet data;
        private int batchSize;
        private NDManager manager;
        private boolean shuffle = true;
        private Augmentation augmentation;
        private long seed;
        private boolean dropLast;
        private int prefetch = -1;
        private int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
        private boolean standard;

        Builder() {}

        /**
         * Sets the data.
         *
         * @param data the image set
         * @return this builder
         */
        public Builder setData(ImageSet data) {
            this.data = data;
            return this;
        }

        /**
         * Sets the batch size.
         *
         * @param batchSize B, at least 1
         * @return this builder
         */
        public Builder setBatchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Sets the manager; batches are made in sub-managers of it, on its device.
         *
         * @param manager the manager
         * @return this builder
         */
        public Builder setManager(NDManager manager) {
            this.manager = manager;
            return this;
        }

        /**
         * Sets whether each epoch is shuffled; default {@code true}.
         *
         * @param shuffle shuffle or keep file order
         * @return this builder
         */
        public Builder optShuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /**
         * Sets the augmentation; default {@link Augmentation#none()}.
         *
         * @param augmentation the augmentation
         * @return this builder
         */
        public Builder optAugment(Augmentation augmentation) {
            this.augmentation = augmentation;
            this.standard = false;
            return this;
        }

        /**
         * Switches the data set's {@link Augmentation#standard(ImageSet) standard} augmentation on
         * or off; default off.
         *
         * @param augment whether to augment
         * @return this builder
         */
        public Builder optAugment(boolean augment) {
            this.augmentation = augment ? null : Augmentation.none();
            this.standard = augment;
            return this;
        }

        /**
         * Sets the seed of shuffling and augmentation; default 0.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets whether an incomplete last batch is dropped; default {@code false}.
         *
         * @param dropLast drop it
         * @return this builder
         */
        public Builder optDropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /**
         * Sets how many batches are prepared ahead; default twice the thread count.
         *
         * @param prefetch at least 1
         * @return this builder
         */
        public Builder optPrefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Sets the number of worker threads; 0 assembles batches on the consumer thread. Default
         * min(4, available processors).
         *
         * @param threads 0 or more
         * @return this builder
         */
        public Builder optThreads(int threads) {
            this.threads = threads;
            return this;
        }

        /**
         * Validates and builds the loader (starting its threads).
         *
         * @return the loader
         */
        public ImageLoader build() {
            if (data == null || manager == null) {
                throw new IllegalArgumentException("ImageLoader needs setData and setManager");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            }
            if (dropLast && data.size() < batchSize) {
                throw new IllegalArgumentException(
                        data.name()
                                + " has "
                                + data.size()
                                + " samples, fewer than one batch of "
                                + batchSize
                                + " with drop-last: no batch would be produced");
            }
            if (standard) {
                augmentation = Augmentation.standard(data);
            } else if (augmentation == null) {
                augmentation = Augmentation.none();
            }
            if (prefetch < 0) {
                prefetch = Math.max(2, 2 * threads);
            } else if (prefetch < 1) {
                throw new IllegalArgumentException("prefetch must be >= 1, got " + prefetch);
            }
            return new ImageLoader(this);
        }
    }
}
