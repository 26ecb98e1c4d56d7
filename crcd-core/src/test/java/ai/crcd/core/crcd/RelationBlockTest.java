package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RelationBlockTest {

    @Test
    void relationsMatchPlainJava() {
        int da = 3;
        int db = 2;
        int r = 4;
        Random rnd = new Random(7);
        double[][] wa = Ref.random(rnd, da, r);
        double[][] ba = Ref.random(rnd, 1, r);
        double[][] wb = Ref.random(rnd, db, r);
        double[][] w = Ref.random(rnd, r, r);
        double[][] c = Ref.random(rnd, 1, r);
        double[][] a = Ref.random(rnd, 2, da); // P = 2 anchors
        double[][] b = Ref.random(rnd, 3, db); // Q = 3 samples
        try (NDManager m = NDManager.newBaseManager()) {
            RelationBlock block = new RelationBlock(da, db, r);
            block.initialize(m, DataType.FLOAT32, new Shape(2, da), new Shape(3, db));
            var params = block.getDirectParameters();
            params.get("anchor_weight").getArray().set(Ref.flat(wa));
            params.get("anchor_bias").getArray().set(Ref.flat(ba));
            params.get("sample_weight").getArray().set(Ref.flat(wb));
            params.get("output_weight").getArray().set(Ref.flat(w));
            params.get("output_bias").getArray().set(Ref.flat(c));
            NDArray out =
                    block.forward(
                                    new ParameterStore(m, false),
                                    new NDList(Ref.nd(m, a), Ref.nd(m, b)),
                                    false)
                            .singletonOrThrow();
            assertEquals(new Shape(2, 3, r), out.getShape());
            float[] got = out.toFloatArray();
            for (int p = 0; p < 2; p++) {
                for (int q = 0; q < 3; q++) {
                    double[] pa = Ref.vecMat(a[p], wa);
                    double[] pb = Ref.vecMat(b[q], wb);
                    double[] h = new double[r];
                    for (int k = 0; k < r; k++) {
                        h[k] = Math.max(0, pa[k] + ba[0][k] - pb[k]);
                    }
                    double[] rel = Ref.vecMat(h, w);
                    for (int k = 0; k < r; k++) {
                        assertEquals(rel[k] + c[0][k], got[(p * 3 + q) * r + k], 1e-5);
                    }
                }
            }
            assertArrayEquals(
                    new Shape[] {new Shape(2, 3, r)},
                    block.getOutputShapes(new Shape[] {new Shape(2, da), new Shape(3, db)}));
        }
    }
}
