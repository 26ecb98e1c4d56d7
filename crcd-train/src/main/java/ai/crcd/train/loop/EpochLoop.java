package ai.crcd.train.loop;

import ai.crcd.core.training.StepResult;
import ai.crcd.train.data.IndexedBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training stage of one epoch: the one step on every batch, the steps' results kept on the
 * device and copied to the host once per {@code output.log_interval} steps (and at the end of the
 * epoch), listeners told of every step, every sync and every skipped step.
 */
final class EpochLoop {

    private final RunContext ctx;
    private final List<RunListener> listeners;

    EpochLoop(RunContext ctx, List<RunListener> listeners) {
        this.ctx = ctx;
        this.listeners = listeners;
    }

    /** The means of an epoch's applied steps. */
    record Totals(Map<String, Double> terms, double trainTop1) {}

    /**
     * Trains one epoch.
     *
     * @param epoch the epoch, from 0
     * @return the mean of each term over the applied steps, and the train top-1 accuracy
     */
    Totals run(int epoch) {
        return run(epoch, epoch);
    }

    /**
     * Trains one epoch on the batches of a given data epoch (the init stage's epochs have their
     * own, see {@link RunSetup#initEpochIndex}).
     *
     * @param epoch the epoch told to the listeners, from 0
     * @param dataEpoch the loader's epoch
     * @return the means of the terms and the train top-1 accuracy
     */
    Totals run(int epoch, int dataEpoch) {
        Accumulator acc = new Accumulator();
        Pending pending = new Pending(epoch);
        Iterator<IndexedBatch> it = ctx.train.loader().epoch(dataEpoch);
        int stepInEpoch = 0;
        ctx.step.setEpoch(epoch + 1); // batches carry the 1-based epoch (DKD's warm-up)
        try {
            while (it.hasNext()) {
                stepInEpoch++;
                long t0 = System.nanoTime();
                int images;
                try (IndexedBatch b = it.next()) {
                    images = b.size();
                    StepResult r = ctx.step.train(b.images(), b.labels(), b.indices());
                    if (r.skipped()) {
                        skipped(epoch, stepInEpoch, r);
                    } else {
                        pending.add(r, stepInEpoch, images);
                    }
                }
                if (pending.size() >= ctx.cfg.output.logInterval || !it.hasNext()) {
                    acc.add(pending.flush());
                }
                long dt = System.nanoTime() - t0;
                for (RunListener l : listeners) {
                    l.onStep(ctx, epoch, stepInEpoch, images, dt);
                }
            }
        } finally {
            pending.close();
        }
        return acc.totals(ctx.step.termNames());
    }

    private void skipped(int epoch, int stepInEpoch, StepResult r) {
        Map<String, Float> terms = new LinkedHashMap<>();
        float[] v = r.skippedTerms();
        for (int i = 0; i < v.length; i++) {
            terms.put(r.termNames().get(i), v[i]);
        }
        for (RunListener l : listeners) {
            l.onStepSkipped(ctx, epoch, stepInEpoch, terms);
        }
    }

    /** Steps not yet copied to the host, in their own manager. */
    private final class Pending implements AutoCloseable {
        private final int epoch;
        private NDManager manager = ctx.root.newSubManager();
        private final List<NDArray> rows = new ArrayList<>();
        private final List<Integer> steps = new ArrayList<>();
        private final List<Integer> images = new ArrayList<>();

        Pending(int epoch) {
            this.epoch = epoch;
        }

        int size() {
            return rows.size();
        }

        void add(StepResult r, int stepInEpoch, int batchImages) {
            NDArray row = r.row(); // (T + 1)
            row.attach(manager);
            rows.add(row);
            steps.add(stepInEpoch);
            images.add(batchImages);
        }

        /** One host copy of the pending rows; tells the listeners. */
        StepLog flush() {
            List<float[]> host = new ArrayList<>();
            int[] stepNumbers = steps.stream().mapToInt(Integer::intValue).toArray();
            if (!rows.isEmpty()) {
                float[] flat = NDArrays.stack(new NDList(rows)).toFloatArray(); // (S, T + 1)
                int w = flat.length / rows.size();
                for (int s = 0; s < rows.size(); s++) {
                    host.add(Arrays.copyOfRange(flat, s * w, (s + 1) * w));
                }
            }
            StepLog log =
                    new StepLog(
                            epoch,
                            stepNumbers.length == 0 ? 0 : stepNumbers[0],
                            ctx.step.termNames(),
                            host,
                            stepNumbers,
                            images.stream().mapToInt(Integer::intValue).toArray());
            rows.clear();
            steps.clear();
            images.clear();
            manager.close();
            manager = ctx.root.newSubManager();
            if (!host.isEmpty()) {
                for (RunListener l : listeners) {
                    l.onStepsSynced(ctx, log);
                }
            }
            return log;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** Sums of the applied steps' terms, hits and images. */
    private static final class Accumulator {
        private double[] sums;
        private int applied;
        private long images;

        void add(StepLog log) {
            for (int s = 0; s < log.rows().size(); s++) {
                float[] row = log.rows().get(s);
                if (sums == null) {
                    sums = new double[row.length];
                }
                for (int i = 0; i < row.length; i++) {
                    sums[i] += row[i];
                }
                applied++;
                images += log.batchSizes()[s];
            }
        }

        Totals totals(List<String> names) {
            Map<String, Double> means = new LinkedHashMap<>();
            if (names != null) {
                for (int i = 0; i < names.size(); i++) {
                    means.put(names.get(i), applied == 0 ? Double.NaN : sums[i] / applied);
                }
            }
            double top1 = applied == 0 ? Double.NaN : 100.0 * sums[sums.length - 1] / images;
            return new Totals(means, top1);
        }
    }
}
