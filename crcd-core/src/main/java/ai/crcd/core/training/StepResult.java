package ai.crcd.core.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * What one {@link DistillStep#train} produced, still on the device (nothing is copied to the host):
 * the weighted loss terms and the count of top-1 hits on the batch. A skipped step carries the host
 * values of its terms instead.
 */
public final class StepResult {

    private final List<String> termNames;
    private final NDArray terms;
    private final NDArray hits;
    private final float[] skippedTerms;

    StepResult(List<String> termNames, NDArray terms, NDArray hits) {
        this.termNames = termNames;
        this.terms = terms;
        this.hits = hits;
        this.skippedTerms = null;
    }

    private StepResult(List<String> termNames, float[] skippedTerms) {
        this.termNames = termNames;
        this.terms = null;
        this.hits = null;
        this.skippedTerms = skippedTerms;
    }

    static StepResult skipped(List<String> termNames, float[] values) {
        return new StepResult(termNames, values);
    }

    /**
     * Returns whether the step was skipped (a non-finite term, nothing applied).
     *
     * @return {@code true} when skipped
     */
    public boolean skipped() {
        return skippedTerms != null;
    }

    /**
     * Returns the names of the terms, {@code "ce"} first.
     *
     * @return the names
     */
    public List<String> termNames() {
        return termNames;
    }

    /**
     * Returns the weighted loss terms, detached.
     *
     * @return (T) float32, or {@code null} when skipped
     */
    public NDArray terms() {
        return terms;
    }

    /**
     * Returns the number of samples whose label has the strictly largest logit (ties miss).
     *
     * @return () int64, or {@code null} when skipped
     */
    public NDArray hits() {
        return hits;
    }

    /**
     * Returns the terms and the hit count as one row, so that many steps go to the host in one
     * copy.
     *
     * @return (T + 1) float32: the terms, then the hits
     */
    public NDArray row() {
        return NDArrays.concat(
                new NDList(terms, hits.toType(DataType.FLOAT32, false).reshape(1))); // (T + 1)
    }

    /**
     * Returns the host values of a skipped step's terms.
     *
     * @return the values in {@link #termNames()} order, or {@code null} when not skipped
     */
    public float[] skippedTerms() {
        return skippedTerms == null ? null : skippedTerms.clone();
    }
}
