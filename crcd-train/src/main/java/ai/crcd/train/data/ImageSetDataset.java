package ai.crcd.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.training.dataset.Sampler;
import ai.djl.translate.TranslateException;
import ai.djl.util.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A DJL {@link RandomAccessDataset} over an {@link ImageSet}, so that any DJL project (and DJL's
 * own {@code EasyTrain}) can use the crcd data sets, augmentation included.
 *
 * <p>Record {@code i}: data = [image (C, H, W) float32, augmented and normalised]; labels = [label
 * () int64, index () int64] where index = {@code i}, the sample position in the set; the default
 * batchifier stacks them to (B, C, H, W), (B) and (B). DJL's stock losses ({@code
 * SoftmaxCrossEntropyLoss}) want a single label: build with {@code optIncludeIndex(false)} for
 * them. Augmentation draws from a generator seeded by (seed, pass, i), where the pass counter grows
 * with every {@code getData} call (one call per epoch in DJL's training loop), so runs repeat for a
 * seed. Prefer {@link ImageLoader} in crcd: it builds a batch with one NDArray instead of one per
 * sample.
 */
public final class ImageSetDataset extends RandomAccessDataset {

    private ImageSet data;
    private final String setName;
    private final Path root;
    private final boolean train;
    private final Map<String, Object> options;
    private Augmentation augmentation;
    private final boolean standardAugmentation;
    private final long seed;
    private final boolean includeIndex;
    private final AtomicLong pass = new AtomicLong(-1);
    private Normalizer normalizer;

    private ImageSetDataset(Builder b) {
        super(b);
        this.data = b.data;
        this.setName = b.setName;
        this.root = b.root;
        this.train = b.train;
        this.options = b.options;
        this.augmentation = b.augmentation;
        this.standardAugmentation = b.standardAugmentation;
        this.seed = b.seed;
        this.includeIndex = b.includeIndex;
        if (data != null) {
            init();
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

    private void init() {
        normalizer = Normalizer.of(data);
        if (standardAugmentation) {
            augmentation = Augmentation.standard(data);
        } else if (augmentation == null) {
            augmentation = Augmentation.none();
        }
    }

    /**
     * Returns the underlying image set (after {@link #prepare(Progress)} when built by name).
     *
     * @return the set, or {@code null} before preparation
     */
    public ImageSet imageSet() {
        return data;
    }

    @Override
    public synchronized void prepare(Progress progress) {
        if (data == null) {
            data = DataSets.open(setName, root, train, options);
            init();
        }
    }

    @Override
    public Record get(NDManager manager, long index) {
        prepare(null);
        int i = Math.toIntExact(index);
        SplittableRandom rnd =
                new SplittableRandom(
                        seed * 0x9E3779B97F4A7C15L
                                ^ Math.max(pass.get(), 0) * 0xBF58476D1CE4E5B9L
                                ^ index * 0x94D049BB133111EBL);
        float[] buf = new float[data.imageSize()];
        augmentation.apply(data, i, augmentation.draw(rnd), normalizer, buf, 0);
        NDArray image =
                manager.create(buf, new Shape(data.channels(), data.height(), data.width()));
        NDList labels = new NDList(manager.create((long) data.label(i)));
        if (includeIndex) {
            labels.add(manager.create(index));
        }
        return new Record(new NDList(image), labels);
    }

    @Override
    public Iterable<Batch> getData(NDManager manager, Sampler sampler, ExecutorService executor)
            throws IOException, TranslateException {
        prepare(null);
        pass.incrementAndGet();
        return super.getData(manager, sampler, executor);
    }

    @Override
    protected long availableSize() {
        prepare(null);
        return data.size();
    }

    /** Builder for {@link ImageSetDataset}: {@code setSampling} and a source are required. */
    public static final class Builder extends BaseBuilder<Builder> {
        private ImageSet data;
        private String setName;
        private Path root;
        private boolean train = true;
        private Map<String, Object> options;
        private Augmentation augmentation;
        private boolean standardAugmentation;
        private long seed;
        private boolean includeIndex = true;

        Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the data as an image set already in memory.
         *
         * @param data the set
         * @return this builder
         */
        public Builder setImageSet(ImageSet data) {
            this.data = data;
            return this;
        }

        /**
         * Sets the data by name, opened by {@link DataSets#open} in {@code prepare}.
         *
         * @param name one of {@link DataSets#names()}
         * @param root the data folder or {@code null} for the default
         * @param train the split
         * @param options data set options or {@code null}
         * @return this builder
         */
        public Builder setDataSet(
                String name, Path root, boolean train, Map<String, Object> options) {
            this.setName = name;
            this.root = root;
            this.train = train;
            this.options = options;
            return this;
        }

        /**
         * Sets the augmentation; default none (normalisation only).
         *
         * @param augmentation the augmentation
         * @return this builder
         */
        public Builder optAugmentation(Augmentation augmentation) {
            this.augmentation = augmentation;
            this.standardAugmentation = false;
            return this;
        }

        /**
         * Switches the set's {@link Augmentation#standard standard} augmentation on or off.
         *
         * @param augment whether to augment
         * @return this builder
         */
        public Builder optAugmentation(boolean augment) {
            this.standardAugmentation = augment;
            this.augmentation = augment ? null : Augmentation.none();
            return this;
        }

        /**
         * Sets the augmentation seed; default 0.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets whether the sample index follows the label in each record; default true.
         *
         * @param includeIndex include it
         * @return this builder
         */
        public Builder optIncludeIndex(boolean includeIndex) {
            this.includeIndex = includeIndex;
            return this;
        }

        /**
         * Builds the data set.
         *
         * @return the data set
         */
        public ImageSetDataset build() {
            if ((data == null) == (setName == null)) {
                throw new IllegalArgumentException(
                        "ImageSetDataset needs exactly one of setImageSet and setDataSet");
            }
            return new ImageSetDataset(this);
        }
    }
}
