package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

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
public final class ImageNetLoader extends PrefetchingLoader<ByteBuffer> {

    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final ImageNetFolder folder;
    private final ImageNetTransform transform;

    private ImageNetLoader(Builder b) {
        super(b, POOL_IDS, "crcd-imagenet-", true);
        this.folder = b.folder;
        this.transform = b.transform;
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
    long label(int sample) {
        return folder.label(sample);
    }

    @Override
    String failurePrefix() {
        return folder.name() + ": ";
    }

    /** Starts decoding batch {@code batch} of an epoch, one task per image. */
    @Override
    CompletableFuture<HostBatch<ByteBuffer>> start(
            int epoch, int batch, int[] order, Executor executor, BooleanSupplier abandoned) {
        Draft draft = draft(epoch, batch, order);
        int[] samples = draft.samples();
        int d = transform.imageBytes();
        ByteBuffer images = ByteBuffer.allocateDirect(samples.length * d); // (b, 3, crop, crop)
        CompletableFuture<?>[] parts = new CompletableFuture<?>[samples.length];
        for (int k = 0; k < samples.length; k++) {
            int i = samples[k];
            int slot = k;
            long sampleSeed =
                    draft.rnd().nextLong(); // drawn in sample order: independent of threads
            parts[k] =
                    CompletableFuture.runAsync(
                            () -> {
                                if (!abandoned.getAsBoolean()) {
                                    transform.apply(
                                            folder.file(i),
                                            new SplittableRandom(sampleSeed),
                                            images,
                                            slot * d);
                                }
                            },
                            executor);
        }
        return CompletableFuture.allOf(parts).thenApply(v -> draft.with(images));
    }

    @Override
    NDArray toImages(ByteBuffer images, int b, NDManager m) {
        int c = transform.crop();
        NDArray raw = m.create(images, new Shape(b, 3, c, c), DataType.UINT8);
        NDArray floats = raw.toType(DataType.FLOAT32, true); // (B, 3, c, c) in 0..255
        raw.close();
        float[] scale = new float[3];
        float[] shift = new float[3];
        for (int ch = 0; ch < 3; ch++) {
            scale[ch] = 1f / (255f * ImageNetTransform.STD[ch]);
            shift[ch] = ImageNetTransform.MEAN[ch] / ImageNetTransform.STD[ch];
        }
        try (NDArray s = m.create(scale, new Shape(1, 3, 1, 1));
                NDArray t = m.create(shift, new Shape(1, 3, 1, 1))) {
            floats.muli(s).subi(t); // (x / 255 - mean) / std
        }
        return floats;
    }

    /**
     * Builder for {@link ImageNetLoader}: {@code set*} are required, {@code opt*} optional. Threads
     * (decoding): default the available processors, at least 1; prefetch (the memory bound):
     * default 2.
     */
    public static final class Builder extends BaseBuilder<Builder> {
        private ImageNetFolder folder;
        private ImageNetTransform transform;

        Builder() {
            super(2, Runtime.getRuntime().availableProcessors());
        }

        @Override
        Builder self() {
            return this;
        }

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
         * Validates and builds the loader (starting its threads).
         *
         * @return the loader
         */
        public ImageNetLoader build() {
            if (folder == null || transform == null || manager == null) {
                throw new IllegalArgumentException(
                        "ImageNetLoader needs setFolder, setTransform and setManager");
            }
            checkBatchSizeAndThreads(1);
            checkPrefetch();
            checkDropLast(folder.name(), folder.size(), "images");
            return new ImageNetLoader(this);
        }
    }
}
