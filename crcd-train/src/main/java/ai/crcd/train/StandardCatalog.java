package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataOptions;
import ai.crcd.train.data.DataSetException;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.DataSplits;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.data.TestSplit;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The catalog backed by crcd-models and the data package. */
final class StandardCatalog implements Catalog {

    static final StandardCatalog INSTANCE = new StandardCatalog();

    private StandardCatalog() {}

    @Override
    public Set<String> modelNames() {
        return new LinkedHashSet<>(Models.names());
    }

    @Override
    public DistillableNetwork createModel(String name, int numClasses, int inChannels) {
        return Models.create(name, numClasses, inChannels);
    }

    @Override
    public DistillableNetwork createModel(
            String name, int numClasses, int inChannels, boolean preActivation) {
        return Models.builder(name)
                .optNumClasses(numClasses)
                .optInChannels(inChannels)
                .optPreActivation(preActivation)
                .build();
    }

    @Override
    public Set<String> dataSetNames() {
        return new LinkedHashSet<>(DataSets.names());
    }

    @Override
    public Split open(RunConfig.Data data, boolean train, long seed, NDManager manager) {
        if (ImageNetSplits.NAME.equals(data.name)) { // h7-imagenet: streamed from disk
            Splits s = ImageNetSplits.open(data, seed, manager);
            (train ? s.test() : s.train()).loader().close();
            return train ? s.train() : s.test();
        }
        DataSplits sets = read(data, seed);
        return split(data, train ? sets.train() : sets.test(), train, seed, manager);
    }

    @Override
    public Splits openSplits(RunConfig.Data data, long seed, NDManager manager) {
        if (ImageNetSplits.NAME.equals(data.name)) { // h7-imagenet: streamed from disk
            return ImageNetSplits.open(data, seed, manager);
        }
        DataSplits sets = read(data, seed);
        Split train = split(data, sets.train(), true, seed, manager);
        return new Splits(train, split(data, sets.test(), false, seed, manager));
    }

    /** Reads both splits: options checked by DataOptions, data.test_split applied. */
    private static DataSplits read(RunConfig.Data data, long seed) {
        Map<String, Object> opts = new HashMap<>(data.options == null ? Map.of() : data.options);
        try {
            DataOptions.ofConfig(data.name, opts); // the config keys' own errors first
            if ("synthetic".equals(data.name)) {
                RunConfig.Synthetic s = data.synthetic;
                opts.put("size", s.trainSize);
                opts.put("testSize", s.testSize);
                opts.put("classes", s.classes);
                opts.put("channels", s.channels);
                opts.put("height", s.size);
                opts.put("width", s.size);
                opts.putIfAbsent("seed", 0);
            }
            TestSplit testSplit = TestSplit.parse(data.testSplit);
            return DataSets.openSplits(
                    data.name,
                    data.root == null ? null : Path.of(data.root),
                    DataOptions.of(data.name, opts),
                    testSplit,
                    seed);
        } catch (DataSetException | IllegalArgumentException e) {
            throw new ConfigException(
                    "data: cannot open '" + data.name + "' (" + oneLine(e.getMessage()) + ")");
        }
    }

    private static Split split(
            RunConfig.Data data, ImageSet all, boolean train, long seed, NDManager manager) {
        int perClass = train ? data.subsetPerClass : data.testSubsetPerClass;
        ImageSet set = perClass > 0 ? all.firstPerClass(perClass) : all;
        ImageLoader loader =
                ImageLoader.builder()
                        .setData(set)
                        .setBatchSize(train ? data.batchSize : data.testBatchSize)
                        .setManager(manager)
                        .optShuffle(train)
                        .optAugment(train && data.augment)
                        .optSeed(seed)
                        .build();
        return new Split(
                loader, set.numClasses(), set.channels(), set.height(), set.width(), set.labels());
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }
}
