package ai.crcd.train.data;

import java.util.List;

/**
 * The training and test split of a data set, opened together by {@link DataSets#openSplits} so that
 * they agree: one class list (the training split's), one normalisation (the training split's
 * statistics), and no test-on-train unless asked for ({@link TestSplit#TRAIN}).
 *
 * @param train the training split
 * @param test the split the run is evaluated on
 * @param testSplit how the test split was chosen
 * @param warnings what a person should know (e.g. a class with no test images), also logged
 */
public record DataSplits(
        ImageSet train, ImageSet test, TestSplit testSplit, List<String> warnings) {

    /**
     * Creates the splits.
     *
     * @param train the training split
     * @param test the test split
     * @param testSplit how the test split was chosen
     * @param warnings the warnings, copied
     */
    public DataSplits {
        warnings = List.copyOf(warnings);
    }
}
