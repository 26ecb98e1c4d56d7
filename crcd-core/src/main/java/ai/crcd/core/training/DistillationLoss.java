package ai.crcd.core.training;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;

/**
 * The DJL {@link Loss} of a distillation: {@code ce_weight * CE} plus the distiller's weighted
 * terms, computed by the one {@link DistillStep}.
 *
 * <p>Labels: {@code [labels (B), sample indices (B)]} (the indices are needed by methods with
 * per-sample memories such as CRD; e.g. {@code ArrayDataset.builder().optLabels(labels, indices)});
 * predictions: the output of {@link DistillationBlock}. On predictions without the teacher part
 * (validation) the loss is {@code ce_weight * CE}.
 *
 * <p>DJL evaluates a training batch's loss twice (once for backward, once more in the evaluator
 * listener, with the same {@code NDList}s); the second call returns the first result, so stochastic
 * methods (CRD sampling) are not run twice. The last training batch is kept for {@link
 * DistillationListener}, which calls the distiller's after-step update.
 */
public final class DistillationLoss extends Loss {

    private final DistillStep step;
    private final DistillationBlock block;
    private NDList lastLabels;
    private NDList lastPredictions;
    private NDArray lastValue;
    private DistillBatch pending;

    DistillationLoss(DistillStep step, DistillationBlock block) {
        super("distill_loss");
        this.step = step;
        this.block = block;
    }

    /**
     * Computes the loss.
     *
     * @param labels [labels (B), optional sample indices (B)]
     * @param predictions the {@link DistillationBlock}'s output
     * @return () the total loss
     */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        if (labels == lastLabels && predictions == lastPredictions) {
            return lastValue;
        }
        int n = block.studentOutputs();
        if (n < 0) {
            throw new IllegalStateException("DistillationLoss: run the DistillationBlock first");
        }
        FeatureOutput student = FeatureOutput.fromNDList(sub(predictions, 0, n));
        FeatureOutput teacher =
                predictions.size() > n
                        ? FeatureOutput.fromNDList(sub(predictions, n, predictions.size()))
                        : null;
        NDArray y = int64(labels.get(0));
        NDArray indices = labels.size() > 1 ? int64(labels.get(1)) : null;
        DistillStep.Losses l = step.losses(student, teacher, y, indices);
        lastLabels = labels;
        lastPredictions = predictions;
        lastValue = l.stacked().sum();
        if (teacher != null) {
            pending = l.batch();
        }
        return lastValue;
    }

    /**
     * Returns and forgets the last training batch (for the after-step update).
     *
     * @return the batch, or {@code null} if none is pending
     */
    DistillBatch takePending() {
        DistillBatch b = pending;
        pending = null;
        return b;
    }

    private static NDList sub(NDList list, int from, int to) {
        return new NDList(list.subList(from, to));
    }

    private static NDArray int64(NDArray a) {
        return a.getDataType() == DataType.INT64 ? a : a.toType(DataType.INT64, false);
    }
}
