package ai.crcd.train.loop;

import ai.crcd.core.training.DistillStep;
import ai.crcd.train.TopKHits;
import ai.crcd.train.data.BatchLoader;
import ai.crcd.train.data.IndexedBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.Iterator;

/**
 * Evaluation of a network on a loader in inference mode: top-1, top-5 (ties and non-finite logits
 * count as misses, {@link TopKHits}) and mean cross-entropy, accumulated on the device with one
 * host copy at the end.
 *
 * @param top1 top-1 accuracy, percent
 * @param top5 top-5 accuracy, percent
 * @param loss mean cross-entropy per sample
 */
public record Evaluation(double top1, double top5, double loss) {

    /**
     * Evaluates a network.
     *
     * @param net the network (its output 0 is the logits)
     * @param ps its parameter store
     * @param loader the batches
     * @param classes C
     * @param root a manager for the accumulators
     * @return the accuracies and loss
     */
    public static Evaluation of(
            Block net, ParameterStore ps, BatchLoader loader, int classes, NDManager root) {
        try (NDManager acc = root.newSubManager()) {
            NDArray counts = acc.zeros(new Shape(2), DataType.INT64); // (2): top-1, top-5 hits
            NDArray lossSum = acc.zeros(new Shape(1), DataType.FLOAT64); // (1)
            long n = 0;
            Iterator<IndexedBatch> it = loader.epoch(0);
            while (it.hasNext()) {
                try (IndexedBatch b = it.next()) {
                    NDArray logits = net.forward(ps, new NDList(b.images()), false).get(0);
                    NDArray next = counts.add(hits(logits, b.labels(), classes));
                    next.attach(acc);
                    counts = next;
                    NDArray ce = DistillStep.crossEntropy(logits, b.labels()); // () mean
                    NDArray nextLoss =
                            lossSum.add(ce.toType(DataType.FLOAT64, false).mul(b.size()));
                    nextLoss.attach(acc);
                    lossSum = nextLoss;
                    n += b.size();
                }
            }
            long[] c = counts.toLongArray();
            double loss = lossSum.toDoubleArray()[0];
            return new Evaluation(100.0 * c[0] / n, 100.0 * c[1] / n, loss / n);
        }
    }

    /** (2) int64: top-1 and top-5 hits of a batch; ties and non-finite logits miss. */
    static NDArray hits(NDArray logits, NDArray labels, int classes) {
        return TopKHits.counts(logits, labels, 1, 5); // (2) h1-core: ties miss
    }
}
