package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.BatchLoader;
import ai.djl.ndarray.NDManager;
import java.util.Set;

/**
 * The names a config may use and how they become objects: architectures and data sets. The standard
 * catalog ({@link #standard()}) is backed by {@code ai.crcd.models.Models} and {@code
 * ai.crcd.train.data.DataSets}; tests pass their own.
 */
public interface Catalog {

    /**
     * Returns the architecture names.
     *
     * @return the names
     */
    Set<String> modelNames();

    /**
     * Creates an uninitialised network.
     *
     * @param name one of {@link #modelNames()}
     * @param numClasses C
     * @param inChannels input channels
     * @return the network
     */
    DistillableNetwork createModel(String name, int numClasses, int inChannels);

    /**
     * Creates an uninitialised network that also returns its pre-activation stage outputs ({@code
     * FeatureOutput.preActStages()}) when asked (a method's {@code usesPreActivations()}). The
     * default supports only {@code preActivation == false}.
     *
     * @param name one of {@link #modelNames()}
     * @param numClasses C
     * @param inChannels input channels
     * @param preActivation whether the forward output carries the pre-activation outputs
     * @return the network
     * @throws IllegalArgumentException if the catalog cannot build pre-activation outputs
     */
    default DistillableNetwork createModel(
            String name, int numClasses, int inChannels, boolean preActivation) {
        if (preActivation) {
            throw new IllegalArgumentException(
                    "model " + name + ": this catalog has no pre-activation outputs");
        }
        return createModel(name, numClasses, inChannels);
    }

    /**
     * Returns the data set names.
     *
     * @return the names
     */
    Set<String> dataSetNames();

    /**
     * Opens one split of the configured data set as a batch loader.
     *
     * @param data the data section
     * @param train the training split (shuffled, augmented if configured) or the test split
     * @param seed the run's seed
     * @param manager the manager that owns the loader's arrays
     * @return the split
     */
    Split open(RunConfig.Data data, boolean train, long seed, NDManager manager);

    /**
     * Opens the training split and the split the run is evaluated on, together, so that they agree
     * (one class list, the training split's normalisation, {@code data.test_split}). The default
     * opens each with {@link #open}; the standard catalog reads the training data once.
     *
     * @param data the data section
     * @param seed the run's seed (also chooses a held-out test split)
     * @param manager the manager that owns the loaders' arrays
     * @return both splits
     */
    default Splits openSplits(RunConfig.Data data, long seed, NDManager manager) {
        return new Splits(open(data, true, seed, manager), open(data, false, seed, manager));
    }

    /**
     * Returns the standard catalog.
     *
     * @return the catalog backed by crcd-models and the data package
     */
    static Catalog standard() {
        return StandardCatalog.INSTANCE;
    }

    /**
     * One opened split of a data set.
     *
     * @param loader yields the batches of an epoch
     * @param numClasses C
     * @param channels image channels
     * @param height image height
     * @param width image width
     * @param labels the label of every sample, by sample index
     */
    record Split(
            BatchLoader loader,
            int numClasses,
            int channels,
            int height,
            int width,
            int[] labels) {}

    /**
     * The two splits of a run.
     *
     * @param train the training split (shuffled, augmented if configured)
     * @param test the split the run is evaluated on
     */
    record Splits(Split train, Split test) {}
}
