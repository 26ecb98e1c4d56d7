package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataOptions;
import ai.crcd.train.data.DataSetException;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageNetFolder;
import ai.crcd.train.data.ImageNetLoader;
import ai.crcd.train.data.ImageNetTransform;
import ai.crcd.train.data.TestSplit;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens {@code data.name: imagenet-folder} for the standard catalog: the training split from {@code
 * <root>/train/} (class list = its sorted sub-folders), the test split from {@code <root>/val/}
 * read against that list, each as a streaming {@link ImageNetLoader} (training: random resized crop
 * + flip when {@code data.augment}, shuffled; test: resize + centre crop). {@code data.root}
 * defaults to {@code <data>/imagenet}; {@code data.test_split} may be {@code folder} (val/) or
 * {@code train}. Options: {@code crop}, {@code resize}, {@code threads}, {@code prefetch} ({@link
 * DataOptions}).
 */
final class ImageNetSplits {

    /** The data set name in configs. */
    static final String NAME = "imagenet-folder";

    private static final Logger LOG = LoggerFactory.getLogger(ImageNetSplits.class);

    private ImageNetSplits() {}

    /**
     * Opens both splits.
     *
     * @param data the data section ({@code name: imagenet-folder})
     * @param seed the run's seed (order and crops of the training split)
     * @param manager the manager of the batches
     * @return the splits
     * @throws ConfigException with one line naming the folder or option and the fix
     */
    static Catalog.Splits open(RunConfig.Data data, long seed, NDManager manager) {
        try {
            DataOptions opts =
                    DataOptions.ofConfig(
                            NAME, new HashMap<>(data.options == null ? Map.of() : data.options));
            TestSplit split = TestSplit.parse(data.testSplit);
            if (split.kind() == TestSplit.Kind.HOLDOUT) {
                throw new IllegalArgumentException(
                        "data.test_split: got '"
                                + data.testSplit
                                + "', allowed for imagenet-folder:"
                                + " folder (val/) or train");
            }
            Path root =
                    data.root == null
                            ? DataSets.defaultDataDir().resolve("imagenet")
                            : Path.of(data.root);
            ImageNetFolder train =
                    ImageNetFolder.scan(root.resolve("train"), NAME + "/train", null);
            ImageNetFolder test =
                    split.kind() == TestSplit.Kind.TRAIN
                            ? train
                            : ImageNetFolder.scan(
                                    root.resolve("val"), NAME + "/val", train.classNames());
            if (data.subsetPerClass > 0) {
                train = train.firstPerClass(data.subsetPerClass);
            }
            if (data.testSubsetPerClass > 0) {
                test = test.firstPerClass(data.testSubsetPerClass);
            }
            warnMissing(test);
            int crop = opts.integer("crop", 224);
            int resize = opts.integer("resize", Math.round(crop * 256f / 224f));
            ImageNetTransform trainT =
                    data.augment
                            ? ImageNetTransform.train(crop)
                            : ImageNetTransform.eval(resize, crop);
            return new Catalog.Splits(
                    split(loader(opts, train, trainT, data.batchSize, true, seed, manager), crop),
                    split(
                            loader(
                                    opts,
                                    test,
                                    ImageNetTransform.eval(resize, crop),
                                    data.testBatchSize,
                                    false,
                                    seed,
                                    manager),
                            crop));
        } catch (DataSetException | IllegalArgumentException e) {
            throw new ConfigException(
                    "data: cannot open '"
                            + NAME
                            + "' ("
                            + String.valueOf(e.getMessage()).replace('\n', ' ')
                            + ")");
        }
    }

    private static ImageNetLoader loader(
            DataOptions opts,
            ImageNetFolder folder,
            ImageNetTransform t,
            int batch,
            boolean shuffle,
            long seed,
            NDManager manager) {
        ImageNetLoader.Builder b =
                ImageNetLoader.builder()
                        .setFolder(folder)
                        .setTransform(t)
                        .setBatchSize(batch)
                        .setManager(manager)
                        .optShuffle(shuffle)
                        .optSeed(seed)
                        .optPrefetch(opts.integer("prefetch", 2));
        if (opts.has("threads")) {
            b.optThreads(opts.integer("threads", 1));
        }
        return b.build();
    }

    private static Catalog.Split split(ImageNetLoader loader, int crop) {
        ImageNetFolder f = loader.folder();
        return new Catalog.Split(loader, f.numClasses(), 3, crop, crop, f.labels());
    }

    private static void warnMissing(ImageNetFolder test) {
        String missing =
                DataSets.missingClasses(
                        test.name(), test.labels(), test.numClasses(), test.classNames());
        if (missing != null) {
            LOG.warn(missing);
        }
    }
}
