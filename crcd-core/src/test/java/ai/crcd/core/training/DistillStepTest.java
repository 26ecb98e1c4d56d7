package ai.crcd.core.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.TeacherUse;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The one training step against an independent computation: a two-layer linear student's SGD update
 * from the closed-form gradient of {@code ce_weight * CE + w * mean(pooled^2)} in double
 * arithmetic; the after-step update gets the step's batch; a skipped step changes nothing.
 */
class DistillStepTest {

    private static final int B = 6;
    private static final int IN = 4;
    private static final int D = 3;
    private static final int C = 3;
    private static final double CE_WEIGHT = 0.7;
    private static final double AUX_WEIGHT = 0.3;
    private static final float LR = 0.1f;

    /** pooled = x W1^T (no bias), logits = pooled W2^T + b2. */
    static final class TwoLayer extends StepFixture.SmallNetwork {
        private final Linear backbone =
                addChildBlock("backbone", Linear.builder().setUnits(D).optBias(false).build());
        private final Linear head = addChildBlock("head", Linear.builder().setUnits(C).build());

        TwoLayer() {
            super(C, D);
        }

        int forwards;

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            forwards++;
            NDArray pooled = backbone.forward(ps, in, training).singletonOrThrow(); // (B, D)
            NDArray logits = head.forward(ps, new NDList(pooled), training).singletonOrThrow();
            return FeatureOutput.of(logits, pooled, null, List.of(), List.of()).toNDList();
        }

        @Override
        public Shape[] getOutputShapes(Shape[] in) {
            return new Shape[] {new Shape(in[0].get(0), C), new Shape(in[0].get(0), D)};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... in) {
            backbone.initialize(m, t, in[0]);
            head.initialize(m, t, new Shape(in[0].get(0), D));
        }

        @Override
        protected Linear classifier() {
            return head;
        }

        float[] w1() {
            return backbone.getParameters().get("weight").getArray().toFloatArray();
        }
    }

    /** A method with one term, {@code AUX_WEIGHT * mean(pooled^2)}, recording afterStep. */
    static final class SquareDistiller implements Distiller {
        final List<DistillBatch> seen = new ArrayList<>();
        final List<DistillBatch> after = new ArrayList<>();

        @Override
        public String name() {
            return "square";
        }

        @Override
        public LossTerms losses(DistillBatch batch) {
            seen.add(batch);
            assertFalse(batch.teacher().logits().hasGradient(), "teacher output has gradient");
            NDArray p = batch.student().pooled();
            return new LossTerms().put("square", Scalars.mul(p.mul(p).mean(), AUX_WEIGHT));
        }

        @Override
        public void afterStep(DistillBatch batch) {
            after.add(batch);
        }
    }

    @Test
    void oneStepEqualsTheClosedFormSgdUpdate() {
        Engine.getInstance().setRandomSeed(3);
        try (NDManager root = NDManager.newBaseManager()) {
            TwoLayer teacher = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            TwoLayer student = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            SquareDistiller distiller = new SquareDistiller();
            DistillStep step =
                    StepFixture.step(root, student, null)
                            .optTeacher(teacher, distiller)
                            .optCeWeight(CE_WEIGHT)
                            .optOptimizer(StepFixture.sgd(LR))
                            .build();
            float[] teacherW = teacher.w1();
            double[][] w1 = matrix(student.w1(), D, IN);
            double[][] w2 = matrix(student.classifierWeight().getArray().toFloatArray(), C, D);
            double[] b2 =
                    toDouble(student.head.getParameters().get("bias").getArray().toFloatArray());
            try (NDManager sm = root.newSubManager()) {
                NDArray x = sm.randomNormal(new Shape(B, IN)); // (B, IN)
                NDArray y = sm.create(new long[] {0, 1, 2, 2, 1, 0}); // (B)
                double[][] xs = matrix(x.toFloatArray(), B, IN);
                long[] ys = y.toLongArray();
                Expected e = expected(xs, ys, w1, w2, b2);

                StepResult r = step.train(x, y, sm.arange(0, B).toType(DataType.INT64, false));

                assertEquals(List.of("ce", "square"), r.termNames());
                float[] terms = r.terms().toFloatArray();
                assertEquals(e.ce * CE_WEIGHT, terms[0], 1e-5);
                assertEquals(e.square * AUX_WEIGHT, terms[1], 1e-5);
                assertEquals(e.hits, r.hits().getLong());
                assertArrayEquals(flat(e.w1After), toDouble(student.w1()), 1e-5);
                assertArrayEquals(
                        flat(e.w2After),
                        toDouble(student.classifierWeight().getArray().toFloatArray()),
                        1e-5);
                assertEquals(1, distiller.after.size());
                assertSame(distiller.seen.get(0), distiller.after.get(0));
                // the batches carry the step's 1-based epoch (DKD's warm-up reads it)
                assertEquals(1, distiller.seen.get(0).epoch());
                step.setEpoch(3);
                step.train(x, y, sm.arange(0, B).toType(DataType.INT64, false));
                assertEquals(3, distiller.seen.get(1).epoch());
            }
            assertArrayEquals(teacherW, teacher.w1(), 0f); // frozen
        }
    }

    @Test
    void vanillaNeverRunsTheTeacherAndTrainsAsPlainCrossEntropy() {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager root = NDManager.newBaseManager()) {
            TwoLayer teacher = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            TwoLayer student = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            TwoLayer plain = new TwoLayer(); // same weights, trained without any teacher
            plain.initialize(root, DataType.FLOAT32, new Shape(1, IN));
            for (Pair<String, Parameter> p : student.getParameters()) {
                plain.getParameters()
                        .get(p.getKey())
                        .getArray()
                        .set(p.getValue().getArray().toFloatArray());
            }
            Distiller vanilla = Distillers.create("vanilla", new DistillerOptions("t", Map.of()));
            assertEquals(TeacherUse.NONE, vanilla.teacherUse());
            DistillStep step = sgdStep(root, student, teacher, vanilla);
            DistillStep plainStep = sgdStep(root, plain, null, null);
            SquareDistiller square = new SquareDistiller();
            assertEquals(TeacherUse.FEATURES, square.teacherUse());
            TwoLayer other = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            DistillStep squareStep = sgdStep(root, other, teacher, square);
            teacher.forwards = 0;
            try (NDManager sm = root.newSubManager()) {
                NDArray x = sm.randomNormal(new Shape(B, IN)); // (B, IN)
                NDArray y = sm.create(new long[] {0, 1, 2, 2, 1, 0}); // (B)
                for (int i = 0; i < 2; i++) {
                    StepResult r = step.train(x, y, null);
                    StepResult p = plainStep.train(x, y, null);
                    assertEquals(List.of("ce"), r.termNames());
                    assertArrayEquals(p.terms().toFloatArray(), r.terms().toFloatArray(), 0f);
                }
                assertEquals(0, teacher.forwards, "vanilla ran the teacher");
                assertArrayEquals(plain.w1(), student.w1(), 0f);
                squareStep.train(x, y, null);
                assertEquals(1, teacher.forwards, "a FEATURES method runs the teacher once");
            }
        }
    }

    private static DistillStep sgdStep(
            NDManager root, TwoLayer student, TwoLayer teacher, Distiller distiller) {
        DistillStep.Builder b =
                StepFixture.step(root, student, null).optOptimizer(StepFixture.sgd(LR));
        if (teacher != null) {
            b.optTeacher(teacher, distiller);
        }
        return b.build();
    }

    @Test
    void top1HitsCountTiesAndNanAsMisses() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits =
                    m.create(
                            new float[] {
                                3,
                                1,
                                2, // hit
                                1,
                                5,
                                5, // tie with another class: miss
                                0,
                                0,
                                1, // label 0 not the largest: miss
                                Float.NaN,
                                0,
                                0, // NaN truth: miss
                                0,
                                0,
                                7, // hit
                                Float.NaN,
                                0,
                                9 // NaN elsewhere in the row: miss
                            },
                            new Shape(6, 3));
            NDArray labels = m.create(new long[] {0, 1, 0, 0, 2, 2});
            assertEquals(2, DistillStep.top1Hits(logits, labels).getLong());
        }
    }

    @Test
    void aNonFiniteStepIsSkippedWithoutAnyUpdate() {
        try (NDManager root = NDManager.newBaseManager()) {
            TwoLayer teacher = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            TwoLayer student = StepFixture.initialized(root, new TwoLayer(), new Shape(1, IN));
            SquareDistiller distiller = new SquareDistiller();
            DistillStep step =
                    StepFixture.step(root, student, null)
                            .optTeacher(teacher, distiller)
                            .optOptimizer(StepFixture.sgd(LR))
                            .optSkipNonFinite(true)
                            .build();
            float[] before = student.w1();
            try (NDManager sm = root.newSubManager()) {
                NDArray x = sm.full(new Shape(B, IN), Float.NaN);
                StepResult r = step.train(x, sm.zeros(new Shape(B), DataType.INT64), null);
                assertTrue(r.skipped());
                assertTrue(Float.isNaN(r.skippedTerms()[0]));
            }
            assertArrayEquals(before, student.w1(), 0f);
            assertTrue(distiller.after.isEmpty());
        }
    }

    /** The loss terms, hits and SGD-updated weights computed in double arithmetic. */
    private record Expected(
            double ce, double square, long hits, double[][] w1After, double[][] w2After) {}

    private static Expected expected(
            double[][] x, long[] y, double[][] w1, double[][] w2, double[] b2) {
        double[][] h = new double[B][D];
        double[][] dz = new double[B][C];
        double ce = 0;
        double square = 0;
        long hits = 0;
        for (int i = 0; i < B; i++) {
            for (int d = 0; d < D; d++) {
                for (int k = 0; k < IN; k++) {
                    h[i][d] += w1[d][k] * x[i][k];
                }
                square += h[i][d] * h[i][d] / (B * D);
            }
            double[] z = new double[C];
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int c = 0; c < C; c++) {
                z[c] = b2[c];
                for (int d = 0; d < D; d++) {
                    z[c] += w2[c][d] * h[i][d];
                }
                if (z[c] > max) {
                    max = z[c];
                    arg = c;
                }
            }
            hits += arg == y[i] ? 1 : 0;
            double sum = 0;
            for (int c = 0; c < C; c++) {
                sum += Math.exp(z[c] - max);
            }
            ce -= (z[(int) y[i]] - max - Math.log(sum)) / B;
            for (int c = 0; c < C; c++) {
                double p = Math.exp(z[c] - max) / sum;
                dz[i][c] = CE_WEIGHT * (p - (c == y[i] ? 1 : 0)) / B; // d(ce_weight * CE)/dz
            }
        }
        double[][] gw2 = new double[C][D];
        double[][] gw1 = new double[D][IN];
        for (int i = 0; i < B; i++) {
            for (int d = 0; d < D; d++) {
                double dh = AUX_WEIGHT * 2 * h[i][d] / (B * D); // d(w * mean(h^2))/dh
                for (int c = 0; c < C; c++) {
                    gw2[c][d] += dz[i][c] * h[i][d];
                    dh += dz[i][c] * w2[c][d];
                }
                for (int k = 0; k < IN; k++) {
                    gw1[d][k] += dh * x[i][k];
                }
            }
        }
        return new Expected(ce, square, hits, sgd(w1, gw1), sgd(w2, gw2));
    }

    private static double[][] sgd(double[][] w, double[][] g) {
        double[][] out = new double[w.length][w[0].length];
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[0].length; j++) {
                out[i][j] = w[i][j] - LR * g[i][j];
            }
        }
        return out;
    }

    private static double[][] matrix(float[] v, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = v[i * cols + j];
            }
        }
        return m;
    }

    private static double[] flat(double[][] m) {
        double[] out = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
