package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.training.Distillation;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.examples.DistillFashionMnist;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A DJL user distils with DJL's own {@code EasyTrain.fit}, a {@code DefaultTrainingConfig} from
 * crcd's {@link Distillation}, and DJL's standard listeners and evaluators, for CRCD and CRD+KD.
 */
class DjlEasyTrainTest {

    private static final int CLASSES = 4;
    private static final Shape IN = new Shape(1, 2, 6, 6);
    private static final int EPOCHS = 12;

    @TempDir Path tmp;

    /** Counts DJL's callbacks and records each training batch's loss (no extra loss call). */
    static final class Recorder extends TrainingListenerAdapter {
        final List<Float> losses = new ArrayList<>();
        int epochs;
        int validationBatches;

        @Override
        public void onTrainingBatch(Trainer trainer, BatchData batchData) {
            NDList labels = batchData.getLabels().values().iterator().next();
            NDList preds = batchData.getPredictions().values().iterator().next();
            losses.add(trainer.getLoss().evaluate(labels, preds).getFloat());
        }

        @Override
        public void onValidationBatch(Trainer trainer, BatchData batchData) {
            validationBatches++;
        }

        @Override
        public void onEpoch(Trainer trainer) {
            epochs++;
        }
    }

    @ParameterizedTest
    @CsvSource({"crcd, negatives=32", "crd_kd, nce_k=32"})
    void easyTrainFitDistilsWithDjlListeners(String method, String option) throws Exception {
        Engine.getInstance().setRandomSeed(7);
        String[] kv = option.split("=");
        ImageSet trainSet = DataSets.synthetic(96, CLASSES, 2, 6, 6, 1);
        ImageSet testSet = DataSets.synthetic(32, CLASSES, 2, 6, 6, 2);
        Recorder rec = new Recorder();
        float[] stateBefore;
        float[] stateAfter;
        TrainingResult result;
        try (Model model = Model.newInstance("student")) {
            NDManager manager = model.getNDManager();
            TinyNet teacher = new TinyNet(CLASSES, 32);
            teacher.initialize(manager, DataType.FLOAT32, IN);
            TinyNet student = new TinyNet(CLASSES, 16);
            student.initialize(manager, DataType.FLOAT32, IN);
            Distiller distiller =
                    Distillers.create(
                            method,
                            new DistillerOptions(
                                    "options", Map.of(kv[0], Integer.parseInt(kv[1]))));
            distiller.initialize(
                    manager,
                    DistillSetup.builder()
                            .setFeatureDims(32, 16)
                            .setNumClasses(CLASSES)
                            .optDatasetLabels(trainSet.labels())
                            .optOutputShapes(
                                    List.of(teacher.getOutputShapes(new Shape[] {IN})),
                                    List.of(student.getOutputShapes(new Shape[] {IN})))
                            .build());
            stateBefore = flat(distiller.state());
            float[] teacherBefore = teacher.classifierWeight().getArray().toFloatArray();
            Distillation d =
                    Distillation.builder()
                            .setTeacher(teacher)
                            .setStudent(student)
                            .setDistiller(distiller)
                            .setManager(manager)
                            .build();
            model.setBlock(d.block());
            DefaultTrainingConfig config =
                    d.newTrainingConfig()
                            .optOptimizer(
                                    Optimizer.sgd()
                                            .setLearningRateTracker(Tracker.fixed(0.1f))
                                            .optMomentum(0.9f)
                                            .build())
                            .addEvaluator(new Accuracy())
                            .addTrainingListeners(TrainingListener.Defaults.logging())
                            .addTrainingListeners(new SaveModelTrainingListener(tmp.toString()))
                            .addTrainingListeners(rec);
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.setMetrics(new Metrics());
                trainer.initialize(IN);
                EasyTrain.fit(
                        trainer,
                        EPOCHS,
                        DistillFashionMnist.dataset(trainSet, manager, true, Long.MAX_VALUE),
                        DistillFashionMnist.dataset(testSet, manager, false, Long.MAX_VALUE));
                result = trainer.getTrainingResult();
            }
            // the listener counted DJL's epochs for the batches (DKD's warm-up): 1, 2, ..
            assertEquals(EPOCHS + 1, d.step().epoch());
            stateAfter = flat(distiller.state());
            // the teacher stayed frozen
            assertTrue(
                    Arrays.equals(
                            teacherBefore, teacher.classifierWeight().getArray().toFloatArray()));
            distiller.close();
        }
        // DJL's listeners fired: per epoch 2 batches of 64 (96 samples, last batch 32)
        assertEquals(EPOCHS, rec.epochs);
        assertEquals(2 * EPOCHS, rec.losses.size());
        assertEquals(EPOCHS, rec.validationBatches);
        assertEquals(EPOCHS, result.getEpoch());
        Map<String, Float> ev = result.getEvaluations();
        assertTrue(
                ev.containsKey("train_Accuracy") && ev.containsKey("validate_Accuracy"), "" + ev);
        assertTrue(ev.containsKey("train_distill_loss"), "" + ev);
        assertTrue(
                Files.exists(tmp.resolve(String.format("student-%04d.params", EPOCHS))),
                "SaveModelTrainingListener");
        // the loss falls
        for (float l : rec.losses) {
            assertTrue(Float.isFinite(l), "" + rec.losses);
        }
        int n = rec.losses.size();
        double early = mean(rec.losses.subList(0, 4));
        double late = mean(rec.losses.subList(n - 4, n));
        assertTrue(late < early, method + " loss did not fall: " + rec.losses);
        // the after-step update ran through the listener: the method's buffers changed
        assertFalse(Arrays.equals(stateBefore, stateAfter), method + ": buffers unchanged");
    }

    private static double mean(List<Float> v) {
        return v.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
    }

    private static float[] flat(NDList state) {
        List<Float> all = new ArrayList<>();
        for (NDArray a : state) {
            for (float f : a.toType(DataType.FLOAT32, false).toFloatArray()) {
                all.add(f);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }
}
