package ai.crcd.train.loop;

import ai.crcd.train.TrainingException;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nan_policy}: with {@code stop}, a non-finite loss term in the synced steps stops the
 * run (the last good checkpoint stays); with {@code skip}, the step skips such a batch itself
 * (one host copy per step) and this listener logs it.
 */
public final class NanPolicyListener implements RunListener {

    private static final Logger LOG = LoggerFactory.getLogger(NanPolicyListener.class);

    @Override
    public void onStepsSynced(RunContext run, StepLog log) {
        for (int s = 0; s < log.rows().size(); s++) {
            float[] row = log.rows().get(s);
            for (int i = 0; i < log.termNames().size(); i++) {
                if (!Float.isFinite(row[i])) {
                    throw new TrainingException(
                            String.format(
                                    Locale.ROOT,
                                    "non-finite loss at epoch %d step %d: term '%s' = %s; the"
                                            + " last good checkpoint (epoch %d) was kept. Lower"
                                            + " optim.lr or set nan_policy: skip",
                                    log.epoch() + 1,
                                    log.stepNumbers()[s],
                                    log.termNames().get(i),
                                    row[i],
                                    log.epoch()));
                }
            }
        }
    }

    @Override
    public void onStepSkipped(
            RunContext run, int epoch, int stepInEpoch, Map<String, Float> terms) {
        LOG.warn("skipping epoch {} step {}: terms {}", epoch + 1, stepInEpoch, terms);
    }
}
