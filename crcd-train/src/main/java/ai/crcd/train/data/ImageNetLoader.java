package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Streams an {@link ImageNetFolder} from disk: background threads decode and transform the images
 * of the next batches ({@link ImageNetTransform}: random resized crop + flip for training, resize +
 * centre crop for evaluation) into one uint8 buffer per batch; the consumer thread makes it an
 * NDArray on the manager's device and normalises it there with ImageNet's mean/std (a uint8 batch
 * is a quarter of the float32 one, on the host and on the bus).
 *
 * <p>Each batch: images (B, 3, crop, crop) float32 normalised, labels (B) int64, indices (B) int64
 * = the sample positions in the folder (for CRD's memory bank). Without drop-last every index
 * appears exactly once per epoch.
 *
 * <p>Bounded memory: at most {@code prefetch} batches are being decoded or waiting, each one direct
 * (off-heap) buffer of B * 3 * crop * crop bytes (38.5 MB at B = 256, crop 224) that the batch's
 * uint8 NDArray then uses without a copy on the CPU; the Java heap holds only the decoded image of
 * each thread (about 2 MB for 500x375); the files are never all in memory. The images of a batch
 * are decoded in parallel by all threads, so a batch is ready soon after its turn comes. Starting
 * an epoch abandons the batches an unfinished earlier iterator had queued (their images are
 * skipped, not decoded).
 *
 * <p>Deterministic: the epoch order comes from a generator seeded by (seed, epoch) and the random
 * crops/flips of batch b from one seeded by (seed, epoch, b), as {@link ImageLoader} does; thread
 * timing does not matter.
 */
public final class ImageNetLoader implements BatchLoader {

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final ImageNetFolder folder;
    private final ImageNetTransform transform;
    private final int batchSize;
    private final NDManager manager;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int prefetch;
    private final ExecutorService pool;
    private final List<Thread> workers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private EpochIterator current;

    private ImageNetLoader(Builder b) {
        this.folder = b.folder;
        this.transform = b.transform;
        this.batchSize = b.batchSize;
        this.manager = b.manager;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.prefetch = b.prefetch;
        int id = POOL_IDS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.pool =
                Executors.newFixedThreadPool(
                        b.threads,
                        r -> {
                            Thread t =
                                    new Thread(
                                            r, "crcd-imagenet-" + id + "-" + n.incrementAndGet());
                            t.setDaemon(true);
                            workers.add(t);
                            return t;
                        });
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
     * Returns the folder index.
     *
     * @return the folder
     */
    public ImageNetFolder folder() {
        return folder;
    }

    /**
     * Returns the transform.
     *
     * @return the training or evaluation transform
     */
    public ImageNetTransform transform() {
        return transform;
    }

    @Override
    public int size() {
        return folder.size();
    }

    @Override
    public int batchesPerEpoch() {
        int n = folder.size();
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
        int n = folder.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rnd = new SplittableRandom(ImageLoader.mix(seed, epoch, -1));
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
            throw new IllegalStateException("ImageNetLoader is closed");
        }
        synchronized (this) {
            if (current != null) {
                current.abandoned = true; // its queued images are skipped
            }
            current = new EpochIterator(epoch);
            return current;
        }
    }

    @Override
    public void close() {
        closed = true;
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("loader threads did not stop in 10 s");
            }
            for (Thread t : workers) {
                t.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The worker threads started so far (for tests). */
    List<Thread> workerThreads() {
        return workers;
    }

    /** Starts decoding batch {@code batch} of an epoch on the pool. */
    private CompletableFuture<HostBatch> submit(
            int epoch, int batch, int[] order, EpochIterator owner) {
        int from = batch * batchSize;
        int b = Math.min(batchSize, order.length - from);
        int d = transform.imageBytes();
        ByteBuffer images = ByteBuffer.allocateDirect(b * d); // (b, 3, crop, crop) uint8
        long[] labels = new long[b];
        long[] indices = new long[b];
        SplittableRandom rnd = new SplittableRandom(ImageLoader.mix(seed, epoch, batch));
        CompletableFuture<?>[] parts = new CompletableFuture<?>[b];
        for (int k = 0; k < b; k++) {
            int i = order[from + k];
            int slot = k;
            long sampleSeed = rnd.nextLong(); // drawn in sample order: independent of threads
            indices[k] = i;
            labels[k] = folder.label(i);
            parts[k] =
                    CompletableFuture.runAsync(
                            () -> {
                                if (!owner.abandoned) {
                                    transform.apply(
                                            folder.file(i),
                                            new SplittableRandom(sampleSeed),
                                            images,
                                            slot * d);
                                }
                            },
                            pool);
        }
        return CompletableFuture.allOf(parts)
                .thenApply(v -> new HostBatch(images, labels, indices));
    }

    private IndexedBatch toBatch(HostBatch h) {
        NDManager m = manager.newSubManager();
        int b = h.labels.length;
        int c = transform.crop();
        NDArray raw = m.create(h.images, new Shape(b, 3, c, c), DataType.UINT8);
        NDArray images = raw.toType(DataType.FLOAT32, true); // (B, 3, c, c) in 0..255
        raw.close();
        float[] scale = new float[3];
        float[] shift = new float[3];
        for (int ch = 0; ch < 3; ch++) {
            scale[ch] = 1f / (255f * ImageNetTransform.STD[ch]);
            shift[ch] = ImageNetTransform.MEAN[ch] / ImageNetTransform.STD[ch];
        }
        try (NDArray s = m.create(scale, new Shape(1, 3, 1, 1));
                NDArray t = m.create(shift, new Shape(1, 3, 1, 1))) {
            images.muli(s).subi(t); // (x / 255 - mean) / std
        }
        NDArray labels = m.create(h.labels);
        NDArray indices = m.create(h.indices);
        images.setName("images");
        labels.setName("labels");
        indices.setName("indices");
        return new IndexedBatch(m, images, labels, indices);
    }

    /** A batch on the host: (B, 3, crop, crop) uint8, (B) labels, (B) indices. */
    private record HostBatch(ByteBuffer images, long[] labels, long[] indices) {}

    private final class EpochIterator implements Iterator<IndexedBatch> {
        private final int epoch;
        private final int[] order;
        private final int count;
        private final ArrayDeque<CompletableFuture<HostBatch>> ahead = new ArrayDeque<>();
        private int submitted;
        private int taken;
        private volatile boolean abandoned;

        EpochIterator(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.count = batchesPerEpoch();
            fill();
        }

        private void fill() {
            while (submitted < count && ahead.size() < prefetch) {
                ahead.add(submit(epoch, submitted++, order, this));
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
            if (closed || abandoned) {
                throw new IllegalStateException(
                        closed
                                ? "ImageNetLoader is closed"
                                : "this epoch's iterator was abandoned: a later epoch was started");
            }
            HostBatch h;
            try {
                h = ahead.poll().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                while (cause instanceof java.util.concurrent.CompletionException
                        && cause.getCause() != null) {
                    cause = cause.getCause();
                }
                if (cause instanceof DataSetException d) {
                    throw d; // names the file
                }
                throw new IllegalStateException(
                        folder.name() + ": loader thread failed on batch " + taken + ": " + cause,
                        cause);
            }
            taken++;
            fill();
            return toBatch(h);
        }
    }

    /** Builder for {@link ImageNetLoader}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private ImageNetFolder folder;
        private ImageNetTransform transform;
        private int batchSize;
        private NDManager manager;
        private boolean shuffle = true;
        private long seed;
        private boolean dropLast;
        private int prefetch = 2;
        private int threads = Runtime.getRuntime().availableProcessors();

        Builder() {}

        /**
         * Sets the folder index.
         *
         * @param folder the split
         * @return this builder
         */
        public Builder setFolder(ImageNetFolder folder) {
            this.folder = folder;
            return this;
        }

        /**
         * Sets the transform.
         *
         * @param transform {@link ImageNetTransform#train} or {@link ImageNetTransform#eval}
         * @return this builder
         */
        public Builder setTransform(ImageNetTransform transform) {
            this.transform = transform;
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
         * @param shuffle shuffle or keep folder order
         * @return this builder
         */
        public Builder optShuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /**
         * Sets the seed of the order and of the random crops; default 0.
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
         * Sets how many batches are decoded ahead (the memory bound); default 2.
         *
         * @param prefetch at least 1
         * @return this builder
         */
        public Builder optPrefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Sets the number of decoding threads; default the available processors.
         *
         * @param threads at least 1
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
        public ImageNetLoader build() {
            if (folder == null || transform == null || manager == null) {
                throw new IllegalArgumentException(
                        "ImageNetLoader needs setFolder, setTransform and setManager");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            if (prefetch < 1) {
                throw new IllegalArgumentException("prefetch must be >= 1, got " + prefetch);
            }
            if (dropLast && folder.size() < batchSize) {
                throw new IllegalArgumentException(
                        folder.name()
                                + " has "
                                + folder.size()
                                + " images, fewer than one batch of "
                                + batchSize
                                + " with drop-last: no batch would be produced");
            }
            return new ImageNetLoader(this);
        }
    }
}
