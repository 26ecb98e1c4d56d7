package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.train.config.RunConfig;
import ai.djl.ndarray.NDManager;
import java.util.Set;

/**
 * Test fixture: models {@code tiny} (width 16) and {@code tiny_wide} (32), data {@code synthetic}.
 */
final class TestCatalog implements Catalog {

    @Override
    public Set<String> modelNames() {
        return Set.of("tiny", "tiny_wide");
    }

    @Override
    public DistillableNetwork createModel(String name, int numClasses, int inChannels) {
        return new TinyNet(numClasses, "tiny".equals(name) ? 16 : 32);
    }

    @Override
    public Set<String> dataSetNames() {
        return Set.of("synthetic");
    }

    @Override
    public Split open(RunConfig.Data data, boolean train, long seed, NDManager manager) {
        RunConfig.Synthetic s = data.synthetic;
        SyntheticLoader l =
                new SyntheticLoader(
                        manager,
                        train ? s.trainSize : s.testSize,
                        s.classes,
                        s.channels,
                        s.size,
                        train ? data.batchSize : data.testBatchSize,
                        train,
                        train ? 1 : 2,
                        seed);
        return new Split(l, s.classes, s.channels, s.size, s.size, l.labels());
    }
}
