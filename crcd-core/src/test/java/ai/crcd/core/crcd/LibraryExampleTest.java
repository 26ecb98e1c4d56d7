package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.StudentWithAuxiliary;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The "add CRCD to your own DJL loop" example of docs/crcd.md, run on tiny synthetic data: a linear
 * student is distilled from a fixed random teacher feature map. The total loss goes down and the
 * student's pairwise cosine-similarity structure moves towards the teacher's (not far in this toy;
 * see the comment at the assertion).
 */
class LibraryExampleTest {

    private static final int SAMPLES = 32;
    private static final int IN = 8;
    private static final int DT = 6;
    private static final int DS = 5;
    private static final int CLASSES = 3;
    private static final int BATCH = 8;

    /** A student in the FeatureOutput layout: pooled = backbone(x), logits = classifier(pooled). */
    static final class TinyStudent extends AbstractBlock implements DistillableNetwork {
        private final Linear backbone =
                addChildBlock("backbone", Linear.builder().setUnits(DS).optBias(false).build());
        private final Linear classifier =
                addChildBlock("classifier", Linear.builder().setUnits(CLASSES).build());

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray pooled = backbone.forward(ps, in, training).singletonOrThrow();
            NDArray logits =
                    classifier.forward(ps, new NDList(pooled), training).singletonOrThrow();
            return FeatureOutput.of(logits, pooled, null, List.of(), List.of()).toNDList();
        }

        @Override
        public ai.djl.ndarray.types.Shape[] getOutputShapes(Shape[] in) {
            long b = in[0].get(0);
            return new Shape[] {new Shape(b, CLASSES), new Shape(b, DS)};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... in) {
            backbone.initialize(m, t, in[0]);
            classifier.initialize(m, t, new Shape(in[0].get(0), DS));
        }

        @Override
        public int numClasses() {
            return CLASSES;
        }

        @Override
        public int featureDim() {
            return DS;
        }

        @Override
        public Parameter classifierWeight() {
            return classifier.getParameters().get("weight");
        }
    }

    @Test
    void crcdInAPlainDjlLoopLowersTheLossAndTransfersRelations() {
        Engine.getInstance().setRandomSeed(1234);
        try (Model model = Model.newInstance("student");
                NDManager data = NDManager.newBaseManager()) {
            NDManager manager = model.getNDManager();
            // fixed inputs and a fixed random "teacher": pooled = tanh(x A), logits = pooled Wt^T
            NDArray x = data.randomNormal(new Shape(SAMPLES, IN));
            NDArray tW = data.randomNormal(new Shape(CLASSES, DT));
            NDArray tPooled = x.matMul(data.randomNormal(new Shape(IN, DT))).tanh();
            NDArray tLogits = tPooled.matMul(tW.transpose()).mul(3);
            NDArray labels = tLogits.argMax(1);
            TinyStudent student = new TinyStudent();
            student.initialize(data, DataType.FLOAT32, new Shape(BATCH, IN)); // shapes only
            double before = relationCorrelation(student, x, tPooled);

            // ---- the example of docs/crcd.md ----
            Distiller crcd =
                    Distillers.create(
                            "crcd",
                            new DistillerOptions("distill.options", Map.of("negatives", 16)));
            crcd.initialize(
                    manager,
                    DistillSetup.builder().setFeatureDims(DT, DS).setNumClasses(CLASSES).build());
            model.setBlock(
                    new StudentWithAuxiliary(student, crcd.auxiliaryBlock())); // one optimiser
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.sgd()
                                            .setLearningRateTracker(Tracker.fixed(0.05f))
                                            .optMomentum(0.9f)
                                            .build());
            List<Double> losses = new ArrayList<>();
            ParameterStore ps = new ParameterStore(manager, false); // single device
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(BATCH, IN));
                for (int step = 0; step < 160; step++) {
                    try (NDManager stepManager = manager.newSubManager()) {
                        int from = (step % (SAMPLES / BATCH)) * BATCH;
                        NDArray idx =
                                stepManager
                                        .arange(from, from + BATCH)
                                        .toType(DataType.INT64, false);
                        NDArray xb = x.get(idx);
                        xb.attach(stepManager);
                        FeatureOutput t =
                                FeatureOutput.of(
                                        tLogits.get(idx),
                                        tPooled.get(idx),
                                        null,
                                        List.of(),
                                        List.of()); // the teacher's forward, no gradient
                        NDArray y = labels.get(idx);
                        DistillBatch batch;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            FeatureOutput s =
                                    FeatureOutput.fromNDList(trainer.forward(new NDList(xb)));
                            batch =
                                    DistillBatch.builder()
                                            .setTeacher(t)
                                            .setStudent(s)
                                            .setLabels(y)
                                            .setIndices(idx)
                                            .optHeadWeights(
                                                    tW, student.classifierWeight().getArray())
                                            .setParameterStore(ps)
                                            .build();
                            NDArray loss =
                                    Loss.softmaxCrossEntropyLoss()
                                            .evaluate(new NDList(y), new NDList(s.logits()))
                                            .add(crcd.losses(batch).total());
                            gc.backward(loss);
                            losses.add((double) loss.getFloat());
                        }
                        trainer.step();
                        crcd.afterStep(batch);
                    }
                }
            }
            // ---- end of the example ----

            for (int i = 0; i < losses.size(); i++) {
                assertTrue(
                        Double.isFinite(losses.get(i)), "loss at step " + i + ": " + losses.get(i));
            }
            double early = mean(losses.subList(4, 24)); // queue full after 2 steps
            double late = mean(losses.subList(losses.size() - 20, losses.size()));
            assertTrue(late < 0.8 * early, "loss did not go down: " + early + " -> " + late);
            double after = relationCorrelation(student, x, tPooled);
            // With the auxiliary networks initialised as PyTorch's nn.Linear (as the reference
            // code), this toy moves the relation structure only a little in 160 steps (0.35 ->
            // 0.37 here; DJL's former Xavier init with zero biases gave 0.66): the biases of the
            // relation output map and critic start as large as their signal, so u and v start
            // nearly parallel for every pair. Only the direction is asserted.
            assertTrue(
                    after > before,
                    "relation structure moved away from the teacher: " + before + " -> " + after);
            crcd.close();
        }
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    /** Pearson correlation of the off-diagonal pairwise cosine similarities. */
    private static double relationCorrelation(TinyStudent student, NDArray x, NDArray tPooled) {
        try (NDManager m = x.getManager().newSubManager()) {
            NDArray s = student.forward(new ParameterStore(m, false), new NDList(x), false).get(1);
            double[] a = cosines(Ref.toDouble2(s));
            double[] b = cosines(Ref.toDouble2(tPooled));
            double ma = 0;
            double mb = 0;
            for (int i = 0; i < a.length; i++) {
                ma += a[i] / a.length;
                mb += b[i] / b.length;
            }
            double sab = 0;
            double saa = 0;
            double sbb = 0;
            for (int i = 0; i < a.length; i++) {
                sab += (a[i] - ma) * (b[i] - mb);
                saa += (a[i] - ma) * (a[i] - ma);
                sbb += (b[i] - mb) * (b[i] - mb);
            }
            return sab / Math.sqrt(saa * sbb);
        }
    }

    private static double[] cosines(double[][] f) {
        int n = f.length;
        double[] out = new double[n * (n - 1) / 2];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                out[k++] = Ref.dot(Ref.unit(f[i]), Ref.unit(f[j]));
            }
        }
        return out;
    }
}
