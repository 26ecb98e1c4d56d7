package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

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
public final class ImageLoader extends PrefetchingLoader<float[]> {

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final ImageSet data;
    private final Augmentation augmentation;
    private final Normalizer normalizer;

    private ImageLoader(Builder b) {
        super(b, POOL_IDS, "crcd-loader-", false);
        this.data = b.data;
        this.augmentation = b.augmentation;
        this.normalizer = Normalizer.of(data);
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
    long label(int sample) {
        return data.label(sample);
    }

    @Override
    CompletableFuture<HostBatch<float[]>> start(
            int epoch, int batch, int[] order, Executor executor, BooleanSupplier abandoned) {
        return CompletableFuture.supplyAsync(() -> assemble(epoch, batch, order), executor);
    }

    /**
     * Assembles one batch on the host (no NDArrays): usable from any thread.
     *
     * @param epoch the epoch (seeds the augmentation)
     * @param batch the batch number within the epoch
     * @param order the epoch order from {@link #order(int)}
     * @return the host batch: flattened (B, C, H, W) images, (B) labels, (B) indices
     */
    HostBatch<float[]> assemble(int epoch, int batch, int[] order) {
        Draft draft = draft(epoch, batch, order);
        int[] samples = draft.samples();
        int d = data.imageSize();
        float[] images = new float[samples.length * d];
        for (int k = 0; k < samples.length; k++) {
            augmentation.apply(
                    data, samples[k], augmentation.draw(draft.rnd()), normalizer, images, k * d);
        }
        return draft.with(images);
    }

    @Override
    NDArray toImages(float[] images, int b, NDManager m) {
        return m.create(images, new Shape(b, data.channels(), data.height(), data.width()));
    }

    /**
     * Builder for {@link ImageLoader}: {@code set*} are required, {@code opt*} optional. Threads:
     * default min(4, available processors), 0 assembles batches on the consumer thread; prefetch:
     * default twice the thread count (at least 2).
     */
    public static final class Builder extends BaseBuilder<Builder> {
        private ImageSet data;
        private Augmentation augmentation;
        private boolean standard;

        Builder() {
            super(-1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        }

        @Override
        Builder self() {
            return this;
        }

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
         * Validates and builds the loader (starting its threads).
         *
         * @return the loader
         */
        public ImageLoader build() {
            if (data == null || manager == null) {
                throw new IllegalArgumentException("ImageLoader needs setData and setManager");
            }
            checkBatchSizeAndThreads(0);
            checkDropLast(data.name(), data.size(), "samples");
            if (standard) {
                augmentation = Augmentation.standard(data);
            } else if (augmentation == null) {
                augmentation = Augmentation.none();
            }
            if (prefetch < 0) {
                prefetch = Math.max(2, 2 * threads);
            }
            checkPrefetch();
            return new ImageLoader(this);
        }
    }
}
