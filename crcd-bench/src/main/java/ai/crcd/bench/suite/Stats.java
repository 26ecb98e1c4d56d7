package ai.crcd.bench.suite;

import java.util.List;

/** Mean and sample standard deviation. */
public final class Stats {

    private Stats() {}

    /**
     * Returns the arithmetic mean.
     *
     * @param xs the values
     * @return the mean, NaN when empty
     */
    public static double mean(List<Double> xs) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.size();
    }

    /**
     * Returns the sample standard deviation (divisor n - 1).
     *
     * @param xs the values
     * @return the standard deviation, NaN for fewer than two values
     */
    public static double sampleStd(List<Double> xs) {
        if (xs.size() < 2) {
            return Double.NaN;
        }
        double m = mean(xs);
        double s = 0;
        for (double x : xs) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (xs.size() - 1));
    }

    /**
     * Returns the median.
     *
     * @param xs the values
     * @return the median, NaN when empty
     */
    public static double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }
}
