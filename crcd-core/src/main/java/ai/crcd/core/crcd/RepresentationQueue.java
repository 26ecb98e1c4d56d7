package ai.crcd.core.crcd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The buffer of student representations from which CRCD draws its N negatives (Sec. 3.3, Fig. 4).
 * Entries never carry gradient.
 *
 * <ul>
 *   <li>{@link Policy#QUEUE} (the paper's choice): the N most recent student representations, FIFO;
 *       after each step the current batch replaces the oldest entries. Memory O(N d).
 *   <li>{@link Policy#RANDOM} (the Fig. 4 ablation): a per-sample memory keyed by sample index,
 *       written with the batch's current representations after each step; each step reads N entries
 *       drawn uniformly without replacement among the samples written so far. Memory O(n_data d),
 *       as any per-sample memory. The generator of the d-th draw is derived from (seed, d) and d is
 *       part of {@link #state()}, so a buffer restored from a checkpoint draws exactly what the
 *       uninterrupted one would.
 * </ul>
 *
 * <p>Warm-up: until N entries exist, {@link #negatives(NDManager)} returns only the filled entries
 * (fewer than N rows; zero rows before the first update, when the loss skips its negative term).
 * Nothing is invented to pad the buffer, so every negative is a real student representation.
 */
public final class RepresentationQueue implements AutoCloseable {

    /** How the buffer is filled and read. */
    public enum Policy {
        /** The N most recent representations (FIFO). */
        QUEUE,
        /** N random entries of a per-sample memory. */
        RANDOM;

        /**
         * Parses a lower-case name.
         *
         * @param name {@code queue} or {@code random}
         * @return the policy
         */
        public static Policy of(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }
    }

    /** RANDOM counters before the written indices: writePos, filled, draws. */
    private static final int RANDOM_HEADER = 3;

    private final Policy policy;
    private final int capacity;
    private final int dim;
    private final long datasetSize;
    private final long seed; // RANDOM: the seed of the sampling
    private long draws; // RANDOM: samples drawn so far (the index of the next draw)
    private final NDArray buffer; // QUEUE: (N, d) ring; RANDOM: (n_data, d)
    private long writePos; // QUEUE: next row to write (the oldest entry once full)
    private long filled; // QUEUE: filled rows; RANDOM: number of samples written
    private boolean[] seen; // RANDOM
    private long[] seenList; // RANDOM: the written sample indices, first `filled` valid
    private long[] lastSampled = new long[0];

    /**
     * Creates a queue-policy buffer.
     *
     * @param manager a long-lived manager that owns the buffer
     * @param capacity N, the number of negatives
     * @param dim d, the representation dimension
     * @param dataType the data type of the representations
     * @return the buffer
     */
    public static RepresentationQueue queue(
            NDManager manager, int capacity, int dim, DataType dataType) {
        return new RepresentationQueue(manager, Policy.QUEUE, capacity, dim, 0, 0, dataType);
    }

    /**
     * Creates a random-policy buffer.
     *
     * @param manager a long-lived manager that owns the memory
     * @param capacity N, the number of negatives read per step
     * @param dim d, the representation dimension
     * @param datasetSize n_data, the number of training samples (sample indices are in [0, n_data))
     * @param seed the seed of the sampling
     * @param dataType the data type of the representations
     * @return the buffer
     */
    public static RepresentationQueue random(
            NDManager manager,
            int capacity,
            int dim,
            long datasetSize,
            long seed,
            DataType dataType) {
        if (datasetSize <= 0) {
            throw new IllegalArgumentException(
                    "buffer 'random' needs the training set size (a per-sample memory): set it with"
                            + " DistillSetup.builder().optDatasetSize(n) or optDatasetLabels(..),"
                            + " or use buffer 'queue'");
        }
        return new RepresentationQueue(
                manager, Policy.RANDOM, capacity, dim, datasetSize, seed, dataType);
    }

    private RepresentationQueue(
            NDManager manager,
            Policy policy,
            int capacity,
            int dim,
            long datasetSize,
            long seed,
            DataType dataType) {
        if (capacity <= 0 || dim <= 0) {
            throw new IllegalArgumentException(
                    "buffer capacity (negatives) and dim must be positive, got capacity="
                            + capacity
                            + ", dim="
                            + dim);
        }
        this.policy = policy;
        this.capacity = capacity;
        this.dim = dim;
        this.datasetSize = datasetSize;
        this.seed = seed;
        long rows = policy == Policy.QUEUE ? capacity : datasetSize;
        this.buffer = manager.zeros(new Shape(rows, dim), dataType);
        if (policy == Policy.RANDOM) {
            seen = new boolean[Math.toIntExact(datasetSize)];
            seenList = new long[Math.toIntExact(datasetSize)];
        }
    }

    /**
     * Returns the policy.
     *
     * @return the policy
     */
    public Policy policy() {
        return policy;
    }

    /**
     * Returns N.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }

    /**
     * Returns how many negatives the next {@link #negatives(NDManager)} returns: {@code min(N,
     * entries written)}.
     *
     * @return the count
     */
    public int size() {
        return (int) Math.min(capacity, filled);
    }

    /**
     * Returns the negatives for this step, without gradient. For RANDOM this draws a fresh sample
     * of indices (see {@link #lastSampledIndices()}).
     *
     * @param step the per-step manager that will own the returned array
     * @return (n, d) with n = {@link #size()} (0 before the first update); a copy
     */
    public NDArray negatives(NDManager step) {
        int n = size();
        if (n == 0) {
            lastSampled = new long[0];
            return step.zeros(new Shape(0, dim), buffer.getDataType());
        }
        NDArray view;
        if (policy == Policy.QUEUE) {
            view = buffer.get(new NDIndex("0:{}", n)); // order does not matter for the loss
        } else {
            lastSampled = sampleSeen(n);
            NDArray idx = step.create(lastSampled); // (n)
            view = buffer.get(new NDIndex("{}", idx)); // (n, d)
        }
        view.attach(step);
        NDArray copy = view.duplicate(); // later in-place updates never touch this step's graph
        view.close();
        return copy;
    }

    private long[] sampleSeen(int n) {
        SplittableRandom random = new SplittableRandom(drawSeed(seed, draws++));
        // partial Fisher-Yates over the written indices, without replacement
        long[] pool = Arrays.copyOf(seenList, Math.toIntExact(filled));
        for (int i = 0; i < n; i++) {
            int j = i + random.nextInt(pool.length - i);
            long tmp = pool[i];
            pool[i] = pool[j];
            pool[j] = tmp;
        }
        return Arrays.copyOf(pool, n);
    }

    /**
     * Derives the seed of one draw from the buffer's seed and the draw's number, so that no
     * generator state has to be saved: draw d always uses the same numbers.
     *
     * @param seed the buffer's seed
     * @param draw the draw's number, from 0
     * @return the seed of that draw's generator
     */
    static long drawSeed(long seed, long draw) {
        // SplittableRandom's first output is a 64-bit mix of its seed: distinct (seed, draw) give
        // unrelated streams (unlike seed + draw, which would shift one SplitMix sequence)
        return new SplittableRandom(seed ^ (draw + 1) * 0xD1B54A32D192ED03L).nextLong();
    }

    /**
     * Returns the sample indices read by the last {@link #negatives(NDManager)} (RANDOM policy).
     *
     * @return the indices, in the row order of the returned negatives
     */
    public long[] lastSampledIndices() {
        return lastSampled.clone();
    }

    /**
     * Returns the queue's entries from oldest to newest (QUEUE policy).
     *
     * @param step the manager that will own the result
     * @return (size, d) a copy
     */
    public NDArray entries(NDManager step) {
        if (policy != Policy.QUEUE) {
            throw new IllegalStateException("entries() is defined for the queue policy only");
        }
        int n = size();
        if (n < capacity) {
            return negatives(step);
        }
        NDArray oldest = buffer.get(new NDIndex("{}:", writePos)); // (N - writePos, d)
        oldest.attach(step);
        NDArray newest = buffer.get(new NDIndex(":{}", writePos)); // (writePos, d)
        newest.attach(step);
        return oldest.concat(newest, 0);
    }

    /**
     * Adds the batch's current representations (after the optimiser step).
     *
     * @param representations (B, d), detached here
     * @param indices (B) sample indices in [0, n_data) (RANDOM only; may be {@code null} for QUEUE)
     */
    public void update(NDArray representations, NDArray indices) {
        Shape shape = representations.getShape();
        if (shape.dimension() != 2 || shape.get(1) != dim) {
            throw new IllegalArgumentException(
                    "buffer update: expected representations (B, " + dim + "), got " + shape);
        }
        NDArray reps = representations.stopGradient().toType(buffer.getDataType(), false);
        long b = shape.get(0);
        if (policy == Policy.QUEUE) {
            long start = 0;
            if (b > capacity) { // only the newest N rows survive
                start = b - capacity;
            }
            long pos = writePos;
            for (long r = start; r < b; ) {
                long chunk = Math.min(b - r, capacity - pos);
                buffer.set(
                        new NDIndex("{}:{}", pos, pos + chunk),
                        reps.get(new NDIndex("{}:{}", r, r + chunk)));
                r += chunk;
                pos = (pos + chunk) % capacity;
            }
            writePos = pos;
            filled = Math.min(capacity, filled + (b - start));
            return;
        }
        if (indices == null) {
            throw new IllegalArgumentException(
                    "buffer 'random' needs the sample indices of the batch (DistillBatch.setIndices)");
        }
        long[] idx = indices.toType(DataType.INT64, false).toLongArray();
        if (idx.length != b) {
            throw new IllegalArgumentException(
                    "buffer update: " + b + " representations but " + idx.length + " indices");
        }
        for (long i : idx) {
            if (i < 0 || i >= datasetSize) {
                throw new IllegalArgumentException(
                        "buffer update: sample index "
                                + i
                                + " outside [0, "
                                + datasetSize
                                + "); the training set size given to the distiller is wrong");
            }
        }
        NDArray idxArray = reps.getManager().create(idx);
        buffer.set(new NDIndex("{}", idxArray), reps);
        for (long i : idx) {
            if (!seen[(int) i]) {
                seen[(int) i] = true;
                seenList[(int) filled++] = i;
            }
        }
    }

    /**
     * Returns the buffer and its counters for a checkpoint.
     *
     * @return copies, owned by the buffer's manager (close them when written): [buffer (N or
     *     n_data, d), counters (int64: writePos, filled, then for RANDOM the number of draws so far
     *     and the written sample indices)]
     */
    public NDList state() {
        long[] counters;
        if (policy == Policy.QUEUE) {
            counters = new long[] {writePos, filled};
        } else {
            counters = new long[RANDOM_HEADER + (int) filled];
            counters[0] = writePos;
            counters[1] = filled;
            counters[2] = draws;
            System.arraycopy(seenList, 0, counters, RANDOM_HEADER, (int) filled);
        }
        NDArray c = buffer.getManager().create(counters);
        return new NDList(buffer.duplicate(), c);
    }

    /**
     * Restores what {@link #state()} returned.
     *
     * @param state [buffer, counters]
     * @throws IllegalArgumentException if the shapes do not match this buffer
     */
    public void loadState(NDList state) {
        if (state.size() != 2 || !state.get(0).getShape().equals(buffer.getShape())) {
            throw new IllegalArgumentException(
                    "buffer state: expected [buffer "
                            + buffer.getShape()
                            + ", counters], got "
                            + state.size()
                            + " arrays"
                            + (state.isEmpty() ? "" : " with buffer " + state.get(0).getShape())
                            + "; the checkpoint was written with other negatives/buffer/dims");
        }
        buffer.set(new NDIndex(":"), state.get(0).toType(buffer.getDataType(), false));
        long[] c = state.get(1).toType(DataType.INT64, false).toLongArray();
        writePos = c[0];
        filled = c[1];
        if (policy == Policy.RANDOM) {
            // before the draw count was saved the counters held no third entry: resume with draws
            // counted from 0 (not exact, as that version was not)
            int header = c.length == 2 + filled ? 2 : RANDOM_HEADER;
            if (c.length != header + filled) {
                throw new IllegalArgumentException(
                        "buffer state: "
                                + c.length
                                + " counters for "
                                + filled
                                + " written samples; the checkpoint is damaged");
            }
            draws = header == RANDOM_HEADER ? c[2] : 0;
            Arrays.fill(seen, false);
            for (int i = 0; i < filled; i++) {
                seenList[i] = c[header + i];
                seen[(int) c[header + i]] = true;
            }
        }
    }

    /** Releases the buffer. */
    @Override
    public void close() {
        buffer.close();
    }
}
