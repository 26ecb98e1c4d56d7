package ai.crcd.train.run;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A throttled progress line: epoch, step, loss, images per second and ETA. On a terminal the line
 * is redrawn in place; otherwise (logs, CI) one plain line is printed per update.
 */
public final class Progress {

    private final PrintStream out;
    private final String label;
    private final int epochs;
    private final int stepsPerEpoch;
    private final long intervalNanos;
    private final boolean tty;
    private long last;
    private long trainNanos;
    private long images;
    private long stepsDone;
    private long stepsTotal;

    /**
     * Creates the progress line.
     *
     * @param out where to print (stderr)
     * @param label run label, e.g. {@code distill crcd}
     * @param epochs total epochs
     * @param stepsPerEpoch training steps per epoch
     * @param seconds seconds between updates
     */
    public Progress(PrintStream out, String label, int epochs, int stepsPerEpoch, double seconds) {
        this.out = out;
        this.label = label;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.intervalNanos = (long) (seconds * 1e9);
        this.tty = System.console() != null;
        this.stepsTotal = (long) epochs * stepsPerEpoch;
    }

    /**
     * Sets how many steps were done before this process started (resume).
     *
     * @param steps steps already done
     */
    public void resumedAt(long steps) {
        this.stepsTotal = (long) epochs * stepsPerEpoch - steps;
    }

    /**
     * Records steps and maybe prints.
     *
     * @param epoch epoch number from 1
     * @param step step within the epoch, from 1
     * @param steps steps since the last call
     * @param batchImages images in those steps
     * @param nanos training time of those steps
     * @param loss the latest synced total loss, NaN before the first sync
     */
    public void update(int epoch, int step, int steps, long batchImages, long nanos, double loss) {
        stepsDone += steps;
        images += batchImages;
        trainNanos += nanos;
        long now = System.nanoTime();
        if (now - last < intervalNanos && step < stepsPerEpoch) {
            return;
        }
        last = now;
        double secs = trainNanos / 1e9;
        double ips = secs > 0 ? images / secs : 0;
        double perStep = stepsDone > 0 ? secs / stepsDone : 0;
        long eta = (long) (perStep * Math.max(0, stepsTotal - stepsDone));
        String line =
                String.format(
                        Locale.ROOT,
                        "%s epoch %d/%d step %d/%d loss %s %.0f img/s ETA %d:%02d:%02d",
                        label,
                        epoch,
                        epochs,
                        step,
                        stepsPerEpoch,
                        Double.isNaN(loss) ? "-" : String.format(Locale.ROOT, "%.4f", loss),
                        ips,
                        eta / 3600,
                        eta / 60 % 60,
                        eta % 60);
        if (tty) {
            out.print("\r" + line + "   ");
            if (step >= stepsPerEpoch) {
                out.println();
            }
        } else {
            out.println(line);
        }
        out.flush();
    }

    /**
     * Prints an end-of-epoch line.
     *
     * @param text the line
     */
    public void epochLine(String text) {
        out.println(label + " " + text);
        out.flush();
    }
}
