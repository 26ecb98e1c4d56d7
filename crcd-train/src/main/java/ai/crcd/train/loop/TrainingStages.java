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
        describeInit();
        listeners.forEach(l -> l.onRunBegin(ctx));
    }

    /**
     * Trains one epoch of the method's init stage (no evaluation), then tells the listeners ({@link
     * RunListener#onInitEpoch}). Its randomness (engine seed, data order and augmentation) comes
     * from (seed, {@link RunSetup#initEpochIndex}), so a run resumed inside the init stage
     * continues exactly.
     *
     * @param initEpoch the init epoch, from 0
     * @return its metrics (test columns NaN)
     */
    public EpochMetrics initEpoch(int initEpoch) {
        long t0 = System.nanoTime();
        int index = RunSetup.initEpochIndex(initEpoch);
        Engine.getInstance().setRandomSeed(RunSetup.seedFor(ctx.cfg.seed, index));
        ctx.initOptimizer.setEpoch(initEpoch); // s1: the stage's own milestones, if any
        ctx.step.enterInitStage();
        listeners.forEach(l -> l.onEpochBegin(ctx, initEpoch));
        EpochLoop.Totals totals = loop.run(initEpoch, index);
        double total = totals.terms().values().stream().mapToDouble(Double::doubleValue).sum();
        EpochMetrics m =
                new EpochMetrics(
                        initEpoch + 1,
                        ctx.initOptimizer.lr(),
                        totals.terms(),
                        total,
                        totals.trainTop1(),
                        Double.NaN,
                        Double.NaN,
                        Double.NaN,
                        (System.nanoTime() - t0) / 1e9,
                        ctx.device.toString());
        ctx.initHistory.add(m);
        describeInit();
        listeners.forEach(l -> l.onInitEpoch(ctx, m));
        return m;
    }

    /** Puts the init stage's line into the summary (also after a resume). */
    private void describeInit() {
        List<EpochMetrics> h = ctx.initHistory;
        if (!h.isEmpty()) {
            EpochMetrics last = h.get(h.size() - 1);
            ctx.summaryLines.put(
                    "init stage",
                    String.format(
                            java.util.Locale.ROOT,
                            "%d/%d epochs, lr %.4g, final loss %.4f %s (init_metrics.csv)",
                            h.size(),
                            ctx.initEpochs(),
                            last.lr(),
                            last.trainLoss(),
                            last.trainTerms().keySet()));
        }
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
        ctx.step.enterMainStage(); // #14: after the method's init stage, if any
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
