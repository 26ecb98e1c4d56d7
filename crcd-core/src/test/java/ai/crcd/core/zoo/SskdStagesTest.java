package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InitStage;
import ai.crcd.core.training.DistillStep;
import ai.crcd.core.training.StepFixture;
import ai.crcd.core.training.StepResult;
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
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SSKD's two stages through the one step: the init stage (SSKD's "train ssp_head") updates the
 * teacher's SS head only, on the rotation views, and reports the teacher-head term; the main stage
 * updates the student and its SS head and never the teacher head. Also the stage's description
 * (epochs, lr and milestones of SSKD's {@code --t-*} defaults) and {@code init_epochs: 0}.
 */
class SskdStagesTest {

    private static final int B = 4;
    private static final int HW = 3;
    private static final int D = 5;
    private static final int C = 3;

    /** (B, 1, 3, 3) images flattened, pooled = relu(x W1^T + b1), logits = pooled W2^T + b2. */
    static final class Tiny extends StepFixture.SmallNetwork {
        private final Linear body = addChildBlock("body", Linear.builder().setUnits(D).build());
        private final Linear head = addChildBlock("head", Linear.builder().setUnits(C).build());

        Tiny() {
            super(C, D);
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.singletonOrThrow();
            NDArray flat = x.reshape(x.getShape().get(0), -1); // (N, 9)
            NDArray pooled =
                    body.forward(ps, new NDList(flat), training).singletonOrThrow().maximum(0f);
            NDArray logits = head.forward(ps, new NDList(pooled), training).singletonOrThrow();
            return FeatureOutput.of(logits, pooled, null, List.of(), List.of()).toNDList();
        }

        @Override
        public Shape[] getOutputShapes(Shape[] in) {
            return new Shape[] {new Shape(in[0].get(0), C), new Shape(in[0].get(0), D)};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... in) {
            body.initialize(m, t, new Shape(in[0].get(0), HW * HW));
            head.initialize(m, t, new Shape(in[0].get(0), D));
        }

        @Override
        protected Linear classifier() {
            return head;
        }
    }

    @Test
    void initStageTrainsTheTeacherHeadOnlyAndTheMainStageNeverDoes() {
        Engine.getInstance().setRandomSeed(21);
        try (NDManager root = NDManager.newBaseManager()) {
            Tiny teacher = StepFixture.initialized(root, new Tiny(), new Shape(1, 1, HW, HW));
            Tiny student = StepFixture.initialized(root, new Tiny(), new Shape(1, 1, HW, HW));
            SskdDistiller sskd =
                    (SskdDistiller)
                            Distillers.create(
                                    "sskd",
                                    new DistillerOptions(
                                            "distill.options", Map.of("init_epochs", 2)));
            sskd.initialize(
                    root, DistillSetup.builder().setFeatureDims(D, D).setNumClasses(C).build());
            InitStage stage = sskd.initStage().orElseThrow();
            assertEquals(2, stage.epochs());
            assertEquals(0.05, stage.learningRate().orElseThrow(), 0);
            assertEquals(List.of(30, 45), stage.milestones());
            assertEquals(0.1, stage.gamma(), 0);
            assertFalse(stage.studentTraining());
            assertSame(sskd.heads().teacherHead(), stage.initOnlyBlocks().get(0));
            Optimizer sgd = StepFixture.sgd(0.5f);
            Optimizer initSgd = StepFixture.sgd(0.5f);
            DistillStep step =
                    StepFixture.step(root, student, sskd.auxiliaryBlock())
                            .optTeacher(teacher, sskd)
                            .optOptimizer(sgd)
                            .optInitOptimizer(initSgd)
                            .build();
            Block teacherHead = sskd.heads().teacherHead();
            Block studentHead = sskd.heads().studentHead();
            try (NDManager sm = root.newSubManager()) {
                NDArray x = sm.randomNormal(new Shape(B, 1, HW, HW));
                NDArray y = sm.create(new long[] {0, 1, 2, 1});

                List<float[]> t0 = values(teacherHead);
                List<float[]> s0 = values(student);
                List<float[]> h0 = values(studentHead);
                step.enterInitStage();
                StepResult init = step.train(x, y, null);
                assertEquals(List.of(SskdDistiller.TEACHER_SS_TERM), init.termNames());
                assertTrue(Float.isFinite(init.terms().toFloatArray()[0]));
                assertChanged(t0, values(teacherHead), "init stage: teacher head");
                assertUnchanged(s0, values(student), "init stage: student");
                assertUnchanged(h0, values(studentHead), "init stage: student head");

                List<float[]> t1 = values(teacherHead);
                step.enterMainStage();
                StepResult main = step.train(x, y, null);
                assertEquals(List.of("ce", "kd", "sskd_tf", "sskd_ss"), main.termNames());
                assertUnchanged(t1, values(teacherHead), "main stage: teacher head");
                assertChanged(s0, values(student), "main stage: student");
                assertChanged(h0, values(studentHead), "main stage: student head");
            }
        }
    }

    @Test
    void noInitStageFreezesTheTeacherHead() {
        try (NDManager root = NDManager.newBaseManager()) {
            SskdDistiller sskd = SskdDistiller.builder().optInitStage(0, 0.05).build();
            sskd.initialize(
                    root, DistillSetup.builder().setFeatureDims(D, D).setNumClasses(C).build());
            assertTrue(sskd.initStage().isEmpty());
            for (Parameter p : sskd.heads().teacherHead().getParameters().values()) {
                assertFalse(p.requiresGradient(), p.getName());
            }
            for (Parameter p : sskd.heads().studentHead().getParameters().values()) {
                assertTrue(p.requiresGradient(), p.getName());
            }
        }
    }

    private static List<float[]> values(Block b) {
        List<float[]> v = new ArrayList<>();
        for (Parameter p : b.getParameters().values()) {
            v.add(p.getArray().toFloatArray());
        }
        return v;
    }

    private static void assertUnchanged(List<float[]> a, List<float[]> b, String what) {
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), 0f, what + " parameter " + i);
        }
    }

    private static void assertChanged(List<float[]> a, List<float[]> b, String what) {
        boolean changed = false;
        for (int i = 0; i < a.size(); i++) {
            for (int k = 0; k < a.get(i).length; k++) {
                changed |= a.get(i)[k] != b.get(i)[k];
            }
        }
        assertTrue(changed, what + " changed");
    }
}
