package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.train.config.RunConfig;
import ai.djl.ndarray.NDManager;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.data.DataSetException;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.LinkedHashSet;
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
    public Set<String> dataSetNames() {
        return new LinkedHashSet<>(DataSets.names());
    }

    @Override
    public Split open(RunConfig.Data data, boolean train, long seed, NDManager manager) {
        Map<String, Object> opts = new HashMap<>();
        int perClass = train ? data.subsetPerClass : data.testSubsetPerClass;
        if (perClass > 0) {
            opts.put("perClass", perClass);
        }
        if ("synthetic".equals(data.name)) {
            RunConfig.Synthetic s = data.synthetic;
            opts.put("size", train ? s.trainSize : s.testSize);
            opts.put("classes", s.classes);
            opts.put("channels", s.channels);
            opts.put("height", s.size);
            opts.put("width", s.size);
            opts.put("seed", 0);
        }
        ImageSet set;
        try {
            set =
                    DataSets.open(
                            data.name, data.root == null ? null : Path.of(data.root), train, opts);
        } catch (DataSetException | IllegalArgumentException e) {
            throw new ConfigException(
                    "data: cannot open '" + data.name + "' (" + oneLine(e.getMessage()) + ")");
        }
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
