package ai.crcd.core.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InitStage;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.StudentWithAuxiliary;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link DistillStep} in a distiller's init stage: only the stage's parameters change, although the
 * objective also sends gradient into the student's classifier; no gradient is left behind for the
 * main stage; the student's feature modules are exactly the parameters upstream of its stage output
 * (not a layer between the stage and pooling, not the classifier); init-only blocks are not trained
 * by the main stage; the objective falls.
 */
class InitStageStepTest {

    private static final int B = 8;
    private static final int IN = 5;
    private static final int D = 4;
    private static final int C = 3;

    /** x -> backbone -> stage (B, D, 1, 1) -> post (like MobileNetV2's conv2) -> pooled -> head. */
    static final class StagedNet extends StepFixture.SmallNetwork {
        final Linear backbone = addChildBlock("backbone", Linear.builder().setUnits(D).build());
        final Linear post = addChildBlock("post", Linear.builder().setUnits(D).build());
        final Linear head = addChildBlock("head", Linear.builder().setUnits(C).build());

        StagedNet() {
            super(C, D);
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray h = backbone.forward(ps, in, training).singletonOrThrow(); // (B, D)
            NDArray stage = h.reshape(h.getShape().get(0), D, 1, 1); // (B, D, 1, 1)
            NDArray pooled = post.forward(ps, new NDList(h), training).singletonOrThrow();
            NDArray logits = head.forward(ps, new NDList(pooled), training).singletonOrThrow();
            return FeatureOutput.of(logits, pooled, null, List.of(stage), List.of()).toNDList();
        }

        @Override
        public Shape[] getOutputShapes(Shape[] in) {
            long b = in[0].get(0);
            return new Shape[] {new Shape(b, C), new Shape(b, D), new Shape(b, D, 1, 1)};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... in) {
            backbone.initialize(m, t, in[0]);
            post.initialize(m, t, new Shape(in[0].get(0), D));
            head.initialize(m, t, new Shape(in[0].get(0), D));
        }

        @Override
        protected Linear classifier() {
            return head;
        }
    }

    /**
     * Init: a hint h(pooled_s) ~ pooled_t plus 0.1 mean(logits_s^2) (gradient into the student);
     * the hint is init-only; optionally the student's feature modules train too. Main: mean of
     * logits^2.
     */
    static final class HintInit implements Distiller {
        private final boolean features;
        private Linear hint;
        private InitStage init;

        HintInit(boolean features) {
            this.features = features;
        }

        @Override
        public String name() {
            return "hintinit";
        }

        @Override
        public void initialize(NDManager manager, DistillSetup setup) {
            hint = Linear.builder().setUnits(D).build();
            hint.initialize(manager, DataType.FLOAT32, new Shape(1, D));
            init =
                    InitStage.builder()
                            .setEpochs(2)
                            .setObjective(this::initLoss)
                            .addInitOnlyBlock(hint)
                            .optTrainStudentFeatures(features)
                            .build();
        }

        private LossTerms initLoss(DistillBatch b) {
            NDArray s = b.student().pooled();
            NDArray mapped = hint.forward(b.parameterStore(), new NDList(s), true).head();
            NDArray l = mapped.sub(b.teacher().pooled()).square().mean();
            NDArray z = b.student().logits();
            return new LossTerms()
                    .put("hint", l)
                    .put("logit_sq", Scalars.mul(z.square().mean(), 0.1));
        }

        @Override
        public Block auxiliaryBlock() {
            return hint;
        }

        @Override
        public Optional<InitStage> initStage() {
            return Optional.of(init);
        }

        @Override
        public LossTerms losses(DistillBatch batch) {
            return new LossTerms().put("logit_sq", batch.student().logits().square().mean());
        }
    }

    private static Map<String, float[]> snapshot(Block b) {
        Map<String, float[]> m = new HashMap<>();
        for (var p : b.getParameters()) {
            m.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return m;
    }

    private static Optimizer sgd() {
        return Optimizer.sgd()
                .setLearningRateTracker(Tracker.fixed(0.1f))
                .optWeightDecays(0.01f)
                .build();
    }

    private static DistillStep step(
            NDManager root, StudentWithAuxiliary net, Distiller d, DistillableNetwork teacher) {
        return DistillStep.builder()
                .setNetwork(net)
                .setManager(root)
                .optTeacher(teacher, d)
                .optOptimizer(sgd())
                .optInitOptimizer(sgd())
                .build();
    }

    @Test
    void onlyTheStagesParametersChangeAndNoGradientIsLeftBehind() {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager root = NDManager.newBaseManager()) {
            StagedNet teacher = StepFixture.initialized(root, new StagedNet(), new Shape(1, IN));
            StagedNet student = StepFixture.initialized(root, new StagedNet(), new Shape(1, IN));
            HintInit d = new HintInit(false);
            d.initialize(root, null);
            StudentWithAuxiliary net = new StudentWithAuxiliary(student, d.auxiliaryBlock());
            DistillStep step = step(root, net, d, teacher);
            Map<String, float[]> before = snapshot(net);
            NDArray x = root.randomNormal(new Shape(B, IN));
            NDArray y = root.create(new long[] {0, 1, 2, 0, 1, 2, 0, 1});
            step.enterInitStage();
            assertTrue(step.inInitStage());
            List<Float> totals = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                try (NDManager sm = root.newSubManager()) {
                    StepResult r = step.train(x.duplicate(), y.duplicate(), null);
                    assertEquals(List.of("hint", "logit_sq"), r.termNames());
                    assertEquals(r.termNames(), step.termNames());
                    float[] t = r.terms().toFloatArray();
                    totals.add(t[0] + t[1]);
                }
            }
            assertTrue(totals.get(19) < 0.5 * totals.get(0), "init objective " + totals);
            Map<String, float[]> after = snapshot(net);
            for (String k : before.keySet()) {
                boolean hint = k.startsWith("02");
                assertEquals(hint, !java.util.Arrays.equals(before.get(k), after.get(k)), k);
            }
            for (Parameter p : student.getParameters().values()) { // nothing leaks to main
                assertEquals(0f, p.getArray().getGradient().abs().sum().getFloat(), 0f);
            }
            // main stage: the init-only hint is not trained (weight decay would move it)
            step.enterMainStage();
            assertFalse(step.inInitStage());
            float[] hintW =
                    d.auxiliaryBlock().getParameters().get(0).getValue().getArray().toFloatArray();
            try (NDManager sm = root.newSubManager()) {
                StepResult r = step.train(x.duplicate(), y.duplicate(), null);
                assertEquals(List.of("ce", "logit_sq"), r.termNames());
            }
            assertArrayEquals(
                    hintW,
                    d.auxiliaryBlock().getParameters().get(0).getValue().getArray().toFloatArray());
            assertFalse(
                    step.trainedParameters()
                            .contains(d.auxiliaryBlock().getParameters().get(0).getValue()));
        }
    }

    @Test
    void studentFeatureModulesAreThoseUpstreamOfTheStages() {
        Engine.getInstance().setRandomSeed(6);
        try (NDManager root = NDManager.newBaseManager()) {
            StagedNet teacher = StepFixture.initialized(root, new StagedNet(), new Shape(1, IN));
            StagedNet student = StepFixture.initialized(root, new StagedNet(), new Shape(1, IN));
            HintInit d = new HintInit(true);
            d.initialize(root, null);
            StudentWithAuxiliary net = new StudentWithAuxiliary(student, d.auxiliaryBlock());
            DistillStep step = step(root, net, d, teacher);
            Map<String, float[]> before = snapshot(student);
            step.enterInitStage();
            try (NDManager sm = root.newSubManager()) {
                step.train(
                        sm.randomNormal(new Shape(B, IN)),
                        sm.zeros(new Shape(B), DataType.INT64),
                        null);
            }
            List<Parameter> chosen = step.initTrainedParameters();
            List<Parameter> expected = new ArrayList<>(student.backbone.getParameters().values());
            expected.addAll(d.auxiliaryBlock().getParameters().values());
            assertEquals(expected, chosen);
            Map<String, float[]> after = snapshot(student);
            for (String k : before.keySet()) { // post and head get gradient but do not move
                assertEquals(
                        k.contains("backbone"),
                        !java.util.Arrays.equals(before.get(k), after.get(k)),
                        k);
            }
        }
    }

    @Test
    void aStepWithoutInitStageRefusesIt() {
        try (NDManager root = NDManager.newBaseManager()) {
            StagedNet student = StepFixture.initialized(root, new StagedNet(), new Shape(1, IN));
            DistillStep step = StepFixture.step(root, student, null).build();
            assertTrue(step.initStage().isEmpty());
            assertThrows(IllegalStateException.class, step::enterInitStage);
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            InitStage.builder()
                                    .setEpochs(0)
                                    .setObjective(b -> new LossTerms())
                                    .optTrainStudentFeatures(true)
                                    .build());
        }
    }
}
