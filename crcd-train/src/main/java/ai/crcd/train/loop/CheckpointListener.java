package ai.crcd.train.loop;

import ai.crcd.train.EpochMetrics;
import ai.crcd.train.optim.PyTorchSgd;
import ai.crcd.train.run.Checkpoint;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes {@code checkpoint.ckpt} atomically after every epoch, init-stage epochs included:
 * parameters, momentum buffers (of the init optimiser during the init stage, else the main one),
 * distiller state, histories and counters, so that a resumed run continues exactly.
 */
public final class CheckpointListener implements RunListener {

    @Override
    public void onEpoch(RunContext run, EpochMetrics metrics) {
        write(run, metrics.epoch(), run.initEpochs(), run.optimizer());
    }

    @Override
    public void onInitEpoch(RunContext run, EpochMetrics metrics) {
        write(run, 0, metrics.epoch(), run.initOptimizer());
    }

    private static void write(
            RunContext run, int epochsDone, int initEpochsDone, PyTorchSgd optimizer) {
        NDList momentum = new NDList();
        for (Pair<String, Parameter> p : run.trainedParameters()) {
            NDArray v = optimizer.momentum().get(p.getValue().getId());
            if (v != null) {
                v.setName(p.getKey());
                momentum.add(v);
            }
        }
        try (NDList params = ParameterFiles.toNDList(run.step().network())) {
            new Checkpoint(
                            epochsDone,
                            run.globalStep(),
                            run.config().seed,
                            run.history(),
                            params,
                            momentum,
                            run.distiller().state(),
                            initEpochsDone,
                            run.initHistory())
                    .write(run.dir().resolve(Checkpoint.FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(run.dir() + ": " + e.getMessage(), e);
        }
    }
}
