package ai.crcd.train;

import java.util.Map;

/**
 * What one epoch produced.
 *
 * @param epoch the epoch number, from 1
 * @param lr the learning rate used throughout the epoch
 * @param trainTerms mean of each weighted training loss term over the epoch's steps, by name
 *     ({@code ce} first, then the distiller's terms)
 * @param trainLoss mean total training loss (sum of the terms)
 * @param testTop1 top-1 accuracy on the test split, percent
 * @param testTop5 top-5 accuracy on the test split, percent
 * @param seconds wall time of the epoch including evaluation
 */
public record EpochMetrics(
        int epoch,
        double lr,
        Map<String, Double> trainTerms,
        double trainLoss,
        double testTop1,
        double testTop5,
        double seconds) {}
