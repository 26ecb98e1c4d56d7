package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.train.config.RunConfig;
import ai.djl.ndarray.NDManager;
import ai.crcd.models.Models;
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
        throw new UnsupportedOperationException("data not merged yet");
    }

    @Override
    public Split open(RunConfig.Data data, boolean train, long seed, NDManager manager) {
        throw new UnsupportedOperationException("data not merged yet");
    }
}
