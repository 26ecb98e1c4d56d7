package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fused negatives side ({@link RelationContrastBlock#forwardRc}, {@link RcNegativesHead}, the
 * hand-derived backward) against autograd over the unfused path ({@link
 * RelationContrastBlock#forward} then {@link RelationContrastiveLoss} of type RC): the RC loss of
 * one element, the student input's gradient and the gradient of every parameter (M^T, M^{T,S}, h1,
 * h2), in float64, for chunks of one negative, uneven chunks and one chunk, at two temperatures.
 */
class RcNegativesHeadTest {

    private static final int B = 3;
    private static final int N = 7;
    private static final int DT = 4;
    private static final int DS = 5;
    private static final int R = 6;
    private static final int C = 4;

    @Test
    void fusedLossAndEveryGradientEqualAutograd() {
        int compared = 0;
        for (double tau : new double[] {0.5, 0.05}) {
            for (double w : new double[] {1.0, 0.7}) {
                try (NDManager m = NDManager.newBaseManager()) {
                    RelationContrastBlock block =
                            new RelationContrastBlock(DT, DS, R, CriticHead.Type.LINEAR, C, true);
                    block.initialize(
                            m,
                            DataType.FLOAT64,
                            new Shape(B, DT),
                            new Shape(B, DS),
                            new Shape(N, DS));
                    assertTrue(block.folds());
                    ParameterStore ps = new ParameterStore(m, false);
                    NDArray t = m.randomNormal(new Shape(B, DT)).toType(DataType.FLOAT64, false);
                    NDArray s = m.randomNormal(new Shape(B, DS)).toType(DataType.FLOAT64, false);
                    NDArray q = m.randomNormal(new Shape(N, DS)).toType(DataType.FLOAT64, false);
                    // one negative equal to a student sample: scores near the anchor's own
                    q.set(new NDIndex("0"), s.get(1));
                    double[][] ref = run(m, ps, block, tau, w, t, s, q, -1);
                    assertTrue(Math.abs(ref[0][0]) > 0);
                    for (long chunk : new long[] {1, 2L * B * R, 1L << 20}) {
                        double[][] got = run(m, ps, block, tau, w, t, s, q, chunk);
                        // evaluation (training false): the value alone, the same
                        assertEquals(
                                ref[0][0],
                                evalValue(m, ps, block, tau, w, t, s, q, chunk),
                                1e-12 * Math.abs(ref[0][0]));
                        assertEquals(ref.length, got.length);
                        for (int k = 0; k < ref.length; k++) {
                            double scale = 0;
                            for (double v : ref[k]) {
                                scale = Math.max(scale, Math.abs(v));
                            }
                            assertTrue(k == 0 || scale > 0, "part " + k + " has a gradient");
                            for (int i = 0; i < ref[k].length; i++) {
                                assertEquals(
                                        ref[k][i],
                                        got[k][i],
                                        1e-10 * Math.max(scale, 1e-300),
                                        "tau " + tau + " w " + w + " chunk " + chunk + " part " + k
                                                + " entry " + i);
                            }
                            compared++;
                        }
                    }
                }
            }
        }
        assertEquals(4 * 3 * (2 + 14), compared); // value, student, 14 parameters
    }

    @Test
    void unfoldedCriticIsRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelationContrastBlock block =
                    new RelationContrastBlock(DT, DS, R, CriticHead.Type.LINEAR, C, false);
            block.initialize(
                    m, DataType.FLOAT64, new Shape(B, DT), new Shape(B, DS), new Shape(N, DS));
            NDList in =
                    new NDList(
                            m.zeros(new Shape(B, DT), DataType.FLOAT64),
                            m.zeros(new Shape(B, DS), DataType.FLOAT64),
                            m.zeros(new Shape(N, DS), DataType.FLOAT64));
            var e =
                    assertThrows(
                            IllegalStateException.class,
                            () -> block.forwardRc(new ParameterStore(m, false), in, true, 0.1, 1));
            assertTrue(e.getMessage().contains("fold_critic"), e.getMessage());
        }
    }

    /** The RC loss through {@code forwardRc} in evaluation (no gradients computed). */
    private static double evalValue(
            NDManager m,
            ParameterStore ps,
            RelationContrastBlock block,
            double tau,
            double w,
            NDArray t,
            NDArray s,
            NDArray q,
            long chunk) {
        RelationContrastiveLoss loss =
                new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, tau, 0, w);
        try (NDManager step = m.newSubManager()) {
            NDList in = new NDList(t.duplicate(), s.duplicate(), q.duplicate());
            in.attach(step);
            NDList out = block.forwardRc(ps, in, false, tau, w, chunk);
            return loss.compute(out.get(0), out.get(1), null).add(out.get(2)).getDouble();
        }
    }

    /**
     * Returns [loss, d loss/d student, d/d every parameter]; chunk &lt; 0 runs the autograd
     * reference.
     */
    private static double[][] run(
            NDManager m,
            ParameterStore ps,
            RelationContrastBlock block,
            double tau,
            double w,
            NDArray t,
            NDArray s,
            NDArray q,
            long chunk) {
        RelationContrastiveLoss loss =
                new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, tau, 0, w);
        try (NDManager step = m.newSubManager()) {
            NDArray x = s.duplicate();
            x.attach(step);
            x.setRequiresGradient(true);
            NDArray teacher = t.duplicate();
            teacher.attach(step);
            NDArray negatives = q.duplicate();
            negatives.attach(step);
            NDList in = new NDList(teacher, x, negatives);
            NDArray value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                if (chunk < 0) {
                    NDList out = block.forward(ps, in, true);
                    value = loss.compute(out.get(0), out.get(1), out.get(2));
                } else {
                    NDList out = block.forwardRc(ps, in, true, tau, w, chunk);
                    assertEquals(new Shape(), out.get(2).getShape());
                    value = loss.compute(out.get(0), out.get(1), null).add(out.get(2));
                }
                gc.backward(value);
            }
            List<double[]> parts = new ArrayList<>();
            parts.add(new double[] {value.getDouble()});
            parts.add(x.getGradient().toDoubleArray());
            for (Pair<String, Parameter> p : block.getParameters()) {
                try (NDArray g = p.getValue().getArray().getGradient()) {
                    parts.add(g.toDoubleArray());
                    g.subi(g);
                }
            }
            return parts.toArray(new double[0][]);
        }
    }
}
