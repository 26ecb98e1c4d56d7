package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.RunResult;
import ai.djl.engine.Engine;
import java.util.List;

/**
 * The per-epoch stages of a run over the one step: seed and learning rate, train ({@link
 * EpochLoop}), evaluate ({@link Evaluation}), record, tell the listeners.
 */
public final class TrainingStages {

    private final RunContext ctx;
    private final List<RunListener> listeners;
    private final EpochLoop loop;

    /**
     * Creates the stages.
     *
     * @param ctx the set-up run
     * @param listeners the listeners, in call order
     */
    public TrainingStages(RunContext ctx, List<RunListener> listeners) {
        this.ctx = ctx;
        this.listeners = listeners;
        this.loop = new EpochLoop(ctx, listeners);
    }

    /** Tells the listeners that the run begins. */
    public void begin() {
        listeners.forEach(l -> l.onRunBegin(ctx));
    }

    /**
     * Trains and evaluates one epoch, then tells the listeners.
     *
     * @param epoch the epoch, from 0
     * @return its metrics
     */
    public EpochMetrics epoch(int epoch) {
        long t0 = System.nanoTime();
        Engine.getInstance().setRandomSeed(RunSetup.seedFor(ctx.cfg.seed, epoch));
        ctx.optimizer.setEpoch(epoch);
        listeners.forEach(l -> l.onEpochBegin(ctx, epoch));
        EpochLoop.Totals totals = loop.run(epoch);
        ctx.globalStep += ctx.train.loader().batchesPerEpoch();
        Evaluation test =
                Evaluation.of(
                        ctx.step.network().student(),
                        ctx.step.parameterStore(),
                        ctx.test.loader(),
                        ctx.classes,
                        ctx.root);
        double total = totals.terms().values().stream().mapToDouble(Double::doubleValue).sum();
        EpochMetrics m =
                new EpochMetrics(
                        epoch + 1,
                        ctx.schedule.lr(epoch),
                        totals.terms(),
                        total,
                        totals.trainTop1(),
                        test.loss(),
                        test.top1(),
                        test.top5(),
                        (System.nanoTime() - t0) / 1e9,
                        ctx.device.toString());
        ctx.history.add(m);
        listeners.forEach(l -> l.onEpoch(ctx, m));
        return m;
    }

    /**
     * Tells the listeners that the run ends.
     *
     * @return the metrics of every epoch
     */
    public RunResult end() {
        RunResult result = new RunResult(ctx.history, ctx.dir);
        listeners.forEach(l -> l.onRunEnd(ctx, result));
        return result;
    }
}
