package ai.crcd.core.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.InputViews;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The input-views hook of the one step: a method that asks for two views ({@code x} and {@code 3
 * x}) gets teacher and student outputs on all 2B rows and {@code views() == 2}; the cross-entropy
 * and the top-1 hits use the B originals only (checked against a plain-Java forward of the linear
 * student); the method's own term sees every row.
 */
class InputViewsStepTest {

    private static final int B = 5;
    private static final int IN = 4;
    private static final int D = 3;
    private static final int C = 3;
    private static final double CE_WEIGHT = 0.6;

    /** Two views, the second the batch times 3; one term {@code mean(pooled^2)} over all rows. */
    static final class TwoViews implements Distiller {
        final List<DistillBatch> seen = new ArrayList<>();

        @Override
        public String name() {
            return "two_views";
        }

        @Override
        public InputViews trainingViews(NDArray x) {
            return InputViews.of(NDArrays.concat(new NDList(x, x.mul(3)), 0), 2);
        }

        @Override
        public LossTerms losses(DistillBatch batch) {
            seen.add(batch);
            NDArray p = batch.student().pooled();
            return new LossTerms().put("square", Scalars.mul(p.mul(p).mean(), 1.0));
        }
    }

    @Test
    void ceAndTop1UseTheOriginalsWhileTheMethodSeesEveryView() {
        Engine.getInstance().setRandomSeed(7);
        try (NDManager root = NDManager.newBaseManager()) {
            DistillStepTest.TwoLayer teacher =
                    StepFixture.initialized(root, new DistillStepTest.TwoLayer(), new Shape(1, IN));
            DistillStepTest.TwoLayer student =
                    StepFixture.initialized(root, new DistillStepTest.TwoLayer(), new Shape(1, IN));
            TwoViews distiller = new TwoViews();
            DistillStep step =
                    StepFixture.step(root, student, null)
                            .optTeacher(teacher, distiller)
                            .optCeWeight(CE_WEIGHT)
                            .optOptimizer(StepFixture.sgd(0.1f))
                            .build();
            float[] w1 = student.w1(); // (D, IN)
            float[] w2 = student.classifierWeight().getArray().toFloatArray(); // (C, D)
            float[] b2 = student.getParameters().valueAt(2).getArray().toFloatArray(); // (C)
            try (NDManager sm = root.newSubManager()) {
                NDArray x = sm.randomNormal(new Shape(B, IN));
                float[] xs = x.toFloatArray();
                long[] ys = {0, 2, 1, 1, 0};
                StepResult r = step.train(x, sm.create(ys), null);

                double ce = 0;
                long hits = 0;
                double square = 0;
                for (int view = 0; view < 2; view++) {
                    for (int i = 0; i < B; i++) {
                        double[] pooled = new double[D];
                        for (int d = 0; d < D; d++) {
                            for (int k = 0; k < IN; k++) {
                                pooled[d] += w1[d * IN + k] * xs[i * IN + k] * (view == 0 ? 1 : 3);
                            }
                            square += pooled[d] * pooled[d] / (2.0 * B * D);
                        }
                        if (view > 0) {
                            continue;
                        }
                        double[] logits = new double[C];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < C; c++) {
                            logits[c] = b2[c];
                            for (int d = 0; d < D; d++) {
                                logits[c] += w2[c * D + d] * pooled[d];
                            }
                            max = Math.max(max, logits[c]);
                        }
                        double z = 0;
                        int best = 0;
                        for (int c = 0; c < C; c++) {
                            z += Math.exp(logits[c] - max);
                            best = logits[c] > logits[best] ? c : best;
                        }
                        ce -= (logits[(int) ys[i]] - max - Math.log(z)) / B;
                        hits += best == ys[i] ? 1 : 0;
                    }
                }
                float[] terms = r.terms().toFloatArray();
                assertEquals(List.of("ce", "square"), r.termNames());
                assertEquals(CE_WEIGHT * ce, terms[0], 1e-5);
                assertEquals(square, terms[1], 1e-4 * square);
                assertEquals(hits, r.hits().getLong());
                DistillBatch seen = distiller.seen.get(0);
                assertEquals(2, seen.views());
                assertEquals(new Shape(2 * B, C), seen.student().logits().getShape());
                assertEquals(new Shape(2 * B, C), seen.teacher().logits().getShape());
                assertEquals(new Shape(B), seen.labels().getShape());
                assertEquals(new Shape(B, C), seen.originals(seen.student().logits()).getShape());
            }
        }
    }
}
