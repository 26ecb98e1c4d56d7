package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The folded, chunked head against the unfolded reference: values, input gradients and the
 * gradients of every parameter.
 */
class FoldedHeadChunkTest {

    private static final int P = 3;
    private static final int Q = 7;
    private static final int DA = 4;
    private static final int DB = 5;
    private static final int R = 6;
    private static final int C = 4;

    @Test
    void chunkedFoldedHeadMatchesUnfoldedReference() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelationBlock rel = new RelationBlock(DA, DB, R);
            rel.initialize(m, DataType.FLOAT64, new Shape(P, DA), new Shape(Q, DB));
            CriticHead critic = new CriticHead(CriticHead.Type.LINEAR, R, C);
            critic.initialize(m, DataType.FLOAT64, new Shape(P, Q, R));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray a = m.randomNormal(new Shape(P, DA)).toType(DataType.FLOAT64, false);
            NDArray b = m.randomNormal(new Shape(Q, DB)).toType(DataType.FLOAT64, false);
            NDArray weights = m.randomNormal(new Shape(P, Q, C)).toType(DataType.FLOAT64, false);
            // reference: unfolded relation then critic; chunks of 1, 2 (uneven: 7 = 2+2+2+1), all
            double[][] ref = run(m, ps, a, b, weights, rel, critic, -1);
            for (long chunk : new long[] {1, 2L * P * (R + 1), 1L << 20}) {
                double[][] got = run(m, ps, a, b, weights, rel, critic, chunk);
                for (int k = 0; k < ref.length; k++) {
                    assertEquals(ref[k].length, got[k].length);
                    for (int i = 0; i < ref[k].length; i++) {
                        assertEquals(ref[k][i], got[k][i], 1e-12, "chunk " + chunk + " part " + k);
                    }
                }
            }
        }
    }

    /**
     * Returns [output, d(sum w*out)/d samples, d/d every parameter]; chunk &lt; 0 runs the unfolded
     * reference.
     */
    private static double[][] run(
            NDManager m,
            ParameterStore ps,
            NDArray a,
            NDArray b,
            NDArray weights,
            RelationBlock rel,
            CriticHead critic,
            long chunk) {
        try (NDManager step = m.newSubManager()) {
            NDArray x = b.duplicate();
            x.attach(step);
            x.setRequiresGradient(true);
            NDArray anchors = a.duplicate();
            anchors.attach(step);
            NDArray out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                if (chunk < 0) {
                    out = critic.apply(ps, rel.relations(ps, anchors, x, true), true);
                } else {
                    out =
                            RelationContrastBlock.foldedHead(
                                    ps,
                                    rel,
                                    critic,
                                    rel.projectAnchors(ps, anchors, true),
                                    rel.projectSamples(ps, x, true),
                                    true,
                                    chunk);
                }
                assertEquals(new Shape(P, Q, C), out.getShape());
                gc.backward(out.mul(weights).sum());
            }
            List<double[]> parts = new ArrayList<>();
            parts.add(out.toDoubleArray());
            parts.add(x.getGradient().toDoubleArray());
            // and every parameter's gradient (relation maps, output map, critic), then zeroed
            for (Block block : new Block[] {rel, critic}) {
                for (Pair<String, Parameter> p : block.getParameters()) {
                    try (NDArray g = p.getValue().getArray().getGradient()) {
                        parts.add(g.toDoubleArray());
                        g.subi(g);
                    }
                }
            }
            return parts.toArray(new double[0][]);
        }
    }
}
