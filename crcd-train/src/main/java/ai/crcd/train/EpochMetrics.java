package ai.crcd.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one epoch produced. {@link #toRow()} is the one flat, snake_case form that {@code
 * metrics.csv} and {@code metrics.jsonl} both write.
 *
 * @param epoch the epoch number, from 1
 * @param lr the learning rate used throughout the epoch
 * @param trainTerms mean of each weighted training loss term over the epoch's steps, by name
 *     ({@code ce} first, then the distiller's terms)
 * @param trainLoss mean total training loss (sum of the terms)
 * @param trainTop1 top-1 accuracy on the training batches as trained (augmented, the network
 *     changing during the epoch), percent
 * @param testLoss mean cross-entropy on the test split
 * @param testTop1 top-1 accuracy on the test split, percent
 * @param testTop5 top-5 accuracy on the test split, percent
 * @param seconds wall time of the epoch including evaluation
 * @param device the device the epoch ran on, e.g. {@code cpu()} or {@code gpu(0)}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EpochMetrics(
        int epoch,
        double lr,
        Map<String, Double> trainTerms,
        double trainLoss,
        double trainTop1,
        double testLoss,
        double testTop1,
        double testTop5,
        double seconds,
        String device) {

    /**
     * Creates the metrics of an epoch without train accuracy, test loss and device (they read NaN,
     * NaN and {@code ""}), e.g. in tests.
     *
     * @param epoch the epoch number, from 1
     * @param lr the learning rate
     * @param trainTerms mean of each weighted training loss term
     * @param trainLoss mean total training loss
     * @param testTop1 top-1 accuracy on the test split, percent
     * @param testTop5 top-5 accuracy on the test split, percent
     * @param seconds wall time of the epoch
     */
    public EpochMetrics(
            int epoch,
            double lr,
            Map<String, Double> trainTerms,
            double trainLoss,
            double testTop1,
            double testTop5,
            double seconds) {
        this(
                epoch,
                lr,
                trainTerms,
                trainLoss,
                Double.NaN,
                Double.NaN,
                testTop1,
                testTop5,
                seconds,
                "");
    }

    /**
     * Returns the epoch as one flat row: {@code epoch, lr, train_loss, train_<term>..., train_top1,
     * test_loss, test_top1, test_top5, seconds, device}.
     *
     * @return the row, in that order
     */
    public Map<String, Object> toRow() {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.put("lr", lr);
        row.put("train_loss", trainLoss);
        trainTerms.forEach((k, v) -> row.put("train_" + k, v));
        row.put("train_top1", trainTop1);
        row.put("test_loss", testLoss);
        row.put("test_top1", testTop1);
        row.put("test_top5", testTop5);
        row.put("seconds", seconds);
        row.put("device", device);
        return row;
    }
}
