package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.run.LossGuard;
import java.util.ArrayList;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nan_policy} and the loss guard ({@link LossGuard}, {@code guard.*}) as a listener: a
 * non-finite or diverged loss in the synced steps stops the run, as does an epoch that skipped more
 * than {@code guard.nan_skip_limit} of its steps or applied none; with {@code nan_policy: skip} the
 * step skips a non-finite batch itself (one host copy per step) and this listener logs and counts
 * it. It is the first listener, so a bad epoch stops before its checkpoint is written.
 */
public final class LossGuardListener implements RunListener {

    private static final Logger LOG = LoggerFactory.getLogger(LossGuardListener.class);

    private LossGuard guard;
    private LossGuard initGuard; // #14: the init stage's objective has its own scale

    @Override
    public void onRunBegin(RunContext run) {
        guard = new LossGuard(run.config().guard, "skip".equals(run.config().nanPolicy));
        initGuard = new LossGuard(run.config().guard, "skip".equals(run.config().nanPolicy));
    }

    private LossGuard current(RunContext run) {
        return run.inInitStage() ? initGuard : guard;
    }

    @Override
    public void onEpochBegin(RunContext run, int epoch) {
        current(run)
                .beginEpoch(
                        epoch,
                        run.train().loader().batchesPerEpoch(),
                        new ArrayList<>(run.inInitStage() ? run.initHistory() : run.history()));
    }

    @Override
    public void onStepsSynced(RunContext run, StepLog log) {
        LossGuard g = current(run);
        for (int s = 0; s < log.rows().size(); s++) {
            g.step(log.stepNumbers()[s], log.termNames(), log.terms(s));
        }
    }

    @Override
    public void onInitEpoch(RunContext run, EpochMetrics metrics) {
        initGuard.endEpoch(); // before the checkpoint, as for main epochs
    }

    @Override
    public void onStepSkipped(
            RunContext run, int epoch, int stepInEpoch, Map<String, Float> terms) {
        LOG.warn("skipping epoch {} step {}: terms {}", epoch + 1, stepInEpoch, terms);
        current(run).skipped(stepInEpoch);
    }

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        guard.endEpoch(); // before the checkpoint, so a bad epoch is never written
    }
}
