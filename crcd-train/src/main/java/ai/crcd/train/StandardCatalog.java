package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.train.config.RunConfig;
import ai.djl.ndarray.NDManager;
import java.util.Set;

/** The catalog backed by crcd-models and the data package. */
final class StandardCatalog implements Catalog {

    static final StandardCatalog INSTANCE = new StandardCatalog();

    private StandardCatalog() {}

    @Override
    public Set<String> modelNames() {
        throw new UnsupportedOperationException("crcd-models not merged yet");
    }

    @Override
    public DistillableNetwork createModel(String name, int numClasses, int inChannels) {
        throw new UnsupportedOperationException("crcd-models not merged yet");
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
