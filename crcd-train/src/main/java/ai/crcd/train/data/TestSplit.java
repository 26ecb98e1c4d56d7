package ai.crcd.train.data;

import java.util.Locale;

/**
 * Which images a run is evaluated on (config key {@code data.test_split}, see {@code
 * docs/data.md}): {@code folder} the data set's own test split (image-folder: {@code <root>/test/};
 * CIFAR/MNIST: the test files; synthetic: its generated test samples), {@code holdout:F} a
 * stratified fraction F of the training split chosen by the run's seed (removed from training), or
 * {@code train} the training images themselves (asked for explicitly; the test accuracy is then a
 * training accuracy).
 */
public final class TestSplit {

    /** What is allowed, for error messages. */
    public static final String ALLOWED =
            "folder (the data set's test split), holdout:F with 0 < F < 1 (e.g. holdout:0.1, a"
                    + " fraction of the training split) or train (evaluate on the training images)";

    /** The data set's own test split (the default). */
    public static final TestSplit FOLDER = new TestSplit(Kind.FOLDER, 0);

    /** Evaluation on the training images. */
    public static final TestSplit TRAIN = new TestSplit(Kind.TRAIN, 0);

    /** The kinds of test split. */
    public enum Kind {
        /** The data set's own test split. */
        FOLDER,
        /** A held-out fraction of the training split. */
        HOLDOUT,
        /** The training images. */
        TRAIN
    }

    private final Kind kind;
    private final double fraction;

    private TestSplit(Kind kind, double fraction) {
        this.kind = kind;
        this.fraction = fraction;
    }

    /**
     * Returns a held-out split.
     *
     * @param fraction the fraction of every class moved from training to test, in (0, 1)
     * @return the split
     * @throws IllegalArgumentException when the fraction is outside (0, 1)
     */
    public static TestSplit holdout(double fraction) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException(ALLOWED);
        }
        return new TestSplit(Kind.HOLDOUT, fraction);
    }

    /**
     * Parses {@code folder}, {@code train} or {@code holdout:F}.
     *
     * @param text the value, {@code null} = folder
     * @return the split
     * @throws IllegalArgumentException with {@link #ALLOWED} as message for any other value
     */
    public static TestSplit parse(String text) {
        if (text == null) {
            return FOLDER;
        }
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("folder")) {
            return FOLDER;
        }
        if (s.equals("train")) {
            return TRAIN;
        }
        if (s.startsWith("holdout:")) {
            double f;
            try {
                f = Double.parseDouble(s.substring("holdout:".length()).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(ALLOWED, e);
            }
            return holdout(f);
        }
        throw new IllegalArgumentException(ALLOWED);
    }

    /**
     * Returns the kind.
     *
     * @return the kind
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Returns the held-out fraction.
     *
     * @return F for {@code holdout:F}, else 0
     */
    public double fraction() {
        return fraction;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case FOLDER -> "folder";
            case TRAIN -> "train";
            case HOLDOUT -> "holdout:" + fraction;
        };
    }
}
