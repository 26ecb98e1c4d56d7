package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.Scalars;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class GradientElementTest {

    @Test
    void closedFormEqualsAutogradOfMeanCrossEntropy() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(11);
            for (int trial = 0; trial < 3; trial++) {
                int b = 5 + trial;
                int d = 6;
                int c = 4 + trial;
                NDArray pooled = m.randomNormal(new Shape(b, d)); // leaf copy of the feature
                NDArray w = m.randomNormal(new Shape(c, d));
                NDArray bias = m.randomNormal(new Shape(c));
                NDArray labels = m.randomInteger(0, c, new Shape(b), DataType.INT64);
                pooled.setRequiresGradient(true);
                NDArray logits;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    logits = pooled.matMul(w.transpose()).add(bias); // (B, C)
                    NDArray ce =
                            Scalars.div(
                                    logits.logSoftmax(1)
                                            .mul(labels.oneHot(c, DataType.FLOAT32))
                                            .sum()
                                            .neg(),
                                    b); // mean cross-entropy
                    gc.backward(ce);
                }
                float[] auto = pooled.getGradient().toFloatArray();
                float[] closed =
                        GradientElement.compute(logits.stopGradient(), labels, w).toFloatArray();
                for (int i = 0; i < auto.length; i++) {
                    assertEquals(auto[i], closed[i], 1e-5, "trial " + trial + " entry " + i);
                }
            }
        }
    }

    @Test
    void rejectsWrongWeightShape() {
        try (NDManager m = NDManager.newBaseManager()) {
            var e =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    GradientElement.compute(
                                            m.zeros(new Shape(2, 3)),
                                            m.zeros(new Shape(2), DataType.INT64),
                                            m.zeros(new Shape(4, 5))));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("(C, D)"));
        }
    }
}
