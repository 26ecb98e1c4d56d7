package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The machinery {@link ImageLoader} and {@link ImageNetLoader} share: a pool of daemon worker
 * threads, the seeded epoch order, an epoch iterator that keeps up to {@code prefetch} host batches
 * in preparation, the host-to-NDArray conversion (one sub-manager per batch) and {@link #close()}.
 * A loader supplies only how the images of one batch are prepared on the host ({@link #start}) and
 * how they become the (B, C, H, W) float32 images NDArray ({@link #toImages}).
 *
 * <p>Deterministic: the order of epoch {@code e} comes from a generator seeded by (seed, e), and
 * the generator of batch {@code b} ({@link Draft#rnd()}) by (seed, e, b), independent of thread
 * timing.
 *
 * @param <I> the host form of one batch's images
 */
abstract class PrefetchingLoader<I> implements BatchLoader {

    private final int batchSize;
    private final NDManager manager;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int prefetch;
    private final boolean abandonsEarlierEpochs;
    private final ExecutorService pool;
    private final List<Thread> workers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private EpochIterator current;

    /**
     * Takes the common settings and starts the pool (none with 0 threads: batches are then
     * assembled on the consumer thread when they are taken).
     *
     * @param b the validated builder
     * @param poolIds the loader class's pool counter (numbers the thread names)
     * @param threadPrefix the thread name before {@code <pool>-<thread>}
     * @param abandonsEarlierEpochs whether starting an epoch abandons the earlier iterator
     */
    PrefetchingLoader(
            BaseBuilder<?> b,
            AtomicInteger poolIds,
            String threadPrefix,
            boolean abandonsEarlierEpochs) {
        this.batchSize = b.batchSize;
        this.manager = b.manager;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.prefetch = b.prefetch;
        this.abandonsEarlierEpochs = abandonsEarlierEpochs;
        if (b.threads > 0) {
            int id = poolIds.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            this.pool =
                    Executors.newFixedThreadPool(
                            b.threads,
                            r -> {
                                Thread t =
                                        new Thread(
                                                r, threadPrefix + id + "-" + n.incrementAndGet());
                                t.setDaemon(true);
                                workers.add(t);
                                return t;
                            });
        } else {
            this.pool = null;
        }
    }

    /**
     * Starts preparing batch {@code batch} of an epoch on {@code executor} (the pool, or the
     * consumer thread itself without one). Called on the consumer thread.
     *
     * @param epoch the epoch
     * @param batch the batch number within the epoch
     * @param order the epoch order from {@link #order(int)}
     * @param executor where the work runs
     * @param abandoned true once the epoch's iterator was abandoned (its work may be skipped)
     * @return the host batch, when ready
     */
    abstract CompletableFuture<HostBatch<I>> start(
            int epoch, int batch, int[] order, Executor executor, BooleanSupplier abandoned);

    /**
     * Makes the images NDArray of a host batch.
     *
     * @param images the host images
     * @param b the batch size B
     * @param m the batch's sub-manager
     * @return (B, C, H, W) float32 normalised images
     */
    abstract NDArray toImages(I images, int b, NDManager m);

    /**
     * Returns the label of a sample.
     *
     * @param sample the sample position
     * @return its class
     */
    abstract long label(int sample);

    /**
     * Returns the text that starts the line of a failed batch.
     *
     * @return "" or a name followed by ": "
     */
    String failurePrefix() {
        return "";
    }

    @Override
    public int batchesPerEpoch() {
        int n = size();
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
        int n = size();
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
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
        if (!abandonsEarlierEpochs) {
            return new EpochIterator(epoch);
        }
        synchronized (this) {
            if (current != null) {
                current.abandoned = true; // its queued work is skipped
            }
            current = new EpochIterator(epoch);
            return current;
        }
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
     * Returns the samples of one batch with their labels and the batch's generator.
     *
     * @param epoch the epoch
     * @param batch the batch number within the epoch
     * @param order the epoch order
     * @return the draft
     */
    Draft draft(int epoch, int batch, int[] order) {
        int from = batch * batchSize;
        int b = Math.min(batchSize, order.length - from);
        int[] samples = Arrays.copyOfRange(order, from, from + b);
        long[] labels = new long[b];
        long[] indices = new long[b];
        for (int k = 0; k < b; k++) {
            indices[k] = samples[k];
            labels[k] = label(samples[k]);
        }
        return new Draft(samples, labels, indices, new SplittableRandom(mix(seed, epoch, batch)));
    }

    private IndexedBatch toBatch(HostBatch<I> h) {
        NDManager m = manager.newSubManager();
        NDArray images = toImages(h.images(), h.labels().length, m);
        NDArray labels = m.create(h.labels());
        NDArray indices = m.create(h.indices());
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

    /**
     * A batch on the host: its images, (B) labels, (B) indices.
     *
     * @param <T> the host form of the images
     */
    record HostBatch<T>(T images, long[] labels, long[] indices) {}

    /**
     * One batch before its images: (B) sample positions, (B) labels, (B) indices and the batch's
     * generator (seeded by (seed, epoch, batch)).
     */
    record Draft(int[] samples, long[] labels, long[] indices, SplittableRandom rnd) {

        /** Returns the host batch with these labels and the given images. */
        <T> HostBatch<T> with(T images) {
            return new HostBatch<>(images, labels, indices);
        }
    }

    private final class EpochIterator implements Iterator<IndexedBatch> {
        private final int epoch;
        private final int[] order;
        private final int count;
        private final ArrayDeque<CompletableFuture<HostBatch<I>>> ahead = new ArrayDeque<>();
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
            if (pool == null) {
                return;
            }
            while (submitted < count && ahead.size() < prefetch) {
                ahead.add(start(epoch, submitted++, order, pool, () -> abandoned));
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
                                ? PrefetchingLoader.this.getClass().getSimpleName() + " is closed"
                                : "this epoch's iterator was abandoned: a later epoch was started");
            }
            CompletableFuture<HostBatch<I>> f =
                    pool == null
                            ? start(epoch, taken, order, Runnable::run, () -> false)
                            : ahead.poll();
            HostBatch<I> h;
            try {
                h = f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            } catch (ExecutionException e) {
                throw failure(e.getCause());
            }
            taken++;
            fill();
            return toBatch(h);
        }

        private RuntimeException failure(Throwable cause) {
            if (pool == null) {
                // assembled on this thread: its exception as it was thrown
                if (cause instanceof RuntimeException r) {
                    return r;
                }
                if (cause instanceof Error e) {
                    throw e;
                }
            }
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof DataSetException d) {
                return d; // names the file
            }
            return new IllegalStateException(
                    failurePrefix() + "loader thread failed on batch " + taken + ": " + cause,
                    cause);
        }
    }

    /**
     * The settings every loader's builder shares: {@code set*} are required, {@code opt*} optional.
     *
     * @param <B> the builder type
     */
    abstract static class BaseBuilder<B extends BaseBuilder<B>> {
        int batchSize;
        NDManager manager;
        boolean shuffle = true;
        long seed;
        boolean dropLast;
        int prefetch;
        int threads;

        BaseBuilder(int prefetch, int threads) {
            this.prefetch = prefetch;
            this.threads = threads;
        }

        abstract B self();

        /**
         * Sets the batch size.
         *
         * @param batchSize B, at least 1
         * @return this builder
         */
        public B setBatchSize(int batchSize) {
            this.batchSize = batchSize;
            return self();
        }

        /**
         * Sets the manager; batches are made in sub-managers of it, on its device.
         *
         * @param manager the manager
         * @return this builder
         */
        public B setManager(NDManager manager) {
            this.manager = manager;
            return self();
        }

        /**
         * Sets whether each epoch is shuffled; default {@code true}.
         *
         * @param shuffle shuffle or keep the stored order
         * @return this builder
         */
        public B optShuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return self();
        }

        /**
         * Sets the seed of the order and of the random augmentation; default 0.
         *
         * @param seed the seed
         * @return this builder
         */
        public B optSeed(long seed) {
            this.seed = seed;
            return self();
        }

        /**
         * Sets whether an incomplete last batch is dropped; default {@code false}.
         *
         * @param dropLast drop it
         * @return this builder
         */
        public B optDropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return self();
        }

        /**
         * Sets how many batches are prepared ahead (the memory bound); at least 1. The default is
         * the loader's (see its builder).
         *
         * @param prefetch at least 1
         * @return this builder
         */
        public B optPrefetch(int prefetch) {
            this.prefetch = prefetch;
            return self();
        }

        /**
         * Sets the number of worker threads. The default and the least allowed are the loader's
         * (see its builder).
         *
         * @param threads the thread count
         * @return this builder
         */
        public B optThreads(int threads) {
            this.threads = threads;
            return self();
        }

        /** Rejects a batch size under 1 and fewer than {@code minThreads} threads. */
        void checkBatchSizeAndThreads(int minThreads) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (threads < minThreads) {
                throw new IllegalArgumentException(
                        "threads must be >= " + minThreads + ", got " + threads);
            }
        }

        /** Rejects a prefetch under 1. */
        void checkPrefetch() {
            if (prefetch < 1) {
                throw new IllegalArgumentException("prefetch must be >= 1, got " + prefetch);
            }
        }

        /** Rejects drop-last when the set holds less than one batch. */
        void checkDropLast(String name, int size, String samples) {
            if (dropLast && size < batchSize) {
                throw new IllegalArgumentException(
                        name
                                + " has "
                                + size
                                + " "
                                + samples
                                + ", fewer than one batch of "
                                + batchSize
                                + " with drop-last: no batch would be produced");
            }
        }
    }
}
