package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RepDistiller's {@code feats} indexing over crcd's output layout and output shapes. */
class FeatureMapsTest {

    @Test
    void featsIndexStemStagesPooled() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray stem = m.zeros(new Shape(2, 1, 4, 4));
            NDArray s1 = m.zeros(new Shape(2, 2, 4, 4));
            NDArray s2 = m.zeros(new Shape(2, 3, 2, 2));
            FeatureOutput out =
                    FeatureOutput.of(
                            m.zeros(new Shape(2, 3)),
                            m.zeros(new Shape(2, 3)),
                            stem,
                            new ArrayList<>(List.of(s1, s2)),
                            List.of());
            assertSame(stem, FeatureMaps.get(out, 0));
            assertSame(s1, FeatureMaps.get(out, 1));
            assertSame(s2, FeatureMaps.get(out, 2));
            assertSame(out.pooled(), FeatureMaps.get(out, 3));
            assertThrows(IllegalArgumentException.class, () -> FeatureMaps.get(out, 4));
        }
    }

    @Test
    void shapesDropLogitsAndPreActivationOutputs() {
        Shape logits = new Shape(1, 10);
        Shape pooled = new Shape(1, 64);
        Shape stem = new Shape(1, 16, 28, 28);
        Shape a = new Shape(1, 16, 28, 28);
        Shape b = new Shape(1, 32, 14, 14);
        Shape c = new Shape(1, 64, 7, 7);
        List<Shape> expected = List.of(stem, a, b, c, pooled);
        assertEquals(expected, FeatureMaps.shapes(List.of(logits, pooled, stem, a, b, c)));
        // with pre-activation outputs (a network built with optPreActivation(true))
        assertEquals(expected, FeatureMaps.shapes(List.of(logits, pooled, stem, a, b, c, a, b, c)));
        assertEquals(3, FeatureMaps.stageCount(expected));
        assertEquals(List.of(), FeatureMaps.shapes(List.of()));
    }
}
