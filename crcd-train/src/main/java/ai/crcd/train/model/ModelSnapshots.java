package ai.crcd.train.model;

import ai.djl.nn.Block;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Keeps a run's network as DJL model folders after every epoch: {@code RUN/model/} holds the last
 * epoch's weights, {@code RUN/best/} the epoch with the best test top-1 so far (the first such
 * epoch on ties). Each folder is replaced atomically ({@link ModelFolder#write}). One call per
 * epoch ({@link #epochEnd}), so it can be driven by an epoch listener.
 */
public final class ModelSnapshots {

    /** Folder of the last epoch's weights in the run folder. */
    public static final String LAST = "model";

    /** Folder of the best epoch's weights in the run folder. */
    public static final String BEST = "best";

    private final Path runDir;
    private final ModelInfo info;
    private double bestTop1;

    /**
     * Creates the writer.
     *
     * @param runDir the run folder
     * @param info the network's description (epoch and top-1 are filled in per epoch)
     * @param bestTop1SoFar the best test top-1 of the epochs already done (a resumed run), or NaN /
     *     negative when none
     */
    public ModelSnapshots(Path runDir, ModelInfo info, double bestTop1SoFar) {
        this.runDir = runDir;
        this.info = info;
        this.bestTop1 = Double.isNaN(bestTop1SoFar) ? Double.NEGATIVE_INFINITY : bestTop1SoFar;
    }

    /**
     * Writes {@code model/} and, if the epoch is the best so far, {@code best/}.
     *
     * @param network the initialised network (not a wrapper)
     * @param epoch the epoch just finished, 1-based
     * @param testTop1 its test top-1 (%)
     * @throws IOException if writing fails
     */
    public void epochEnd(Block network, int epoch, double testTop1) throws IOException {
        ModelInfo now = info.atEpoch(epoch, testTop1);
        ModelFolder.write(runDir.resolve(LAST), network, now);
        if (testTop1 > bestTop1) {
            bestTop1 = testTop1;
            ModelFolder.write(runDir.resolve(BEST), network, now);
        }
    }
}
