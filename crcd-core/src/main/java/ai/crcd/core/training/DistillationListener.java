package ai.crcd.core.training;

import ai.crcd.core.DistillBatch;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;

/**
 * The DJL {@code TrainingListener} that runs the distiller's after-step update (CRCD's queue, CRD's
 * memory bank) after every training batch of {@code EasyTrain}.
 *
 * <p>DJL notifies {@code onTrainingBatch} after backward and before {@code trainer.step()}; the
 * update reads only the batch's detached features, computed before the optimiser step, so the order
 * does not change what is stored.
 *
 * <p>It also counts epochs for methods with a schedule ({@link ai.crcd.core.DistillBatch#epoch()},
 * DKD's warm-up): DJL does not tell a loss the epoch, so the step starts in epoch 1 and every
 * {@code onEpoch} (the end of an epoch of {@code EasyTrain.fit}) moves it to the next. A trainer
 * that is used for several {@code fit} calls keeps counting; set {@code
 * distillation.step().setEpoch(n)} to start elsewhere.
 */
public final class DistillationListener extends TrainingListenerAdapter {

    private final DistillStep step;
    private final DistillationLoss loss;

    DistillationListener(DistillStep step, DistillationLoss loss) {
        this.step = step;
        this.loss = loss;
    }

    @Override
    public void onEpoch(Trainer trainer) {
        step.setEpoch(step.epoch() + 1);
    }

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        DistillBatch b = loss.takePending();
        if (b != null) {
            step.afterStep(b);
        }
    }
}
