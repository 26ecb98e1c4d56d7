package ai.crcd.core.zoo;

import ai.crcd.core.DistillSetup;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Reads the stage output shapes ({@code FeatureOutput.stages()}, RepDistiller's {@code
 * feats[1:-1]}) from the output shapes given in {@link DistillSetup#teacherShapes()} / {@link
 * DistillSetup#studentShapes()}: [logits, pooled, stem, stage1..K, preact1..K?]. Index 2 is taken
 * as the stem (every crcd-models network has one); a trailing repetition of the K stage shapes is
 * recognised as the pre-activation outputs and dropped.
 */
final class StageShapes {

    private StageShapes() {}

    /**
     * Returns the stage shapes.
     *
     * @param method the method's name, for the message
     * @param side {@code "teacher"} or {@code "student"}, for the message
     * @param all the network's output shapes in the layout of {@code FeatureOutput}
     * @return K shapes (1, Ck, Hk, Wk)
     * @throws IllegalArgumentException when no stage shape is there
     */
    static List<Shape> of(String method, String side, List<Shape> all) {
        List<Shape> rest = all.size() > 3 ? all.subList(3, all.size()) : List.of();
        int half = rest.size() / 2;
        if (rest.size() % 2 == 0
                && half > 0
                && rest.subList(0, half).equals(rest.subList(half, rest.size()))) {
            rest = rest.subList(0, half); // pre-activation copies
        }
        for (Shape s : rest) {
            if (s.dimension() != 4) {
                throw new IllegalArgumentException(
                        method
                                + ": the "
                                + side
                                + "'s stage outputs must be (B, C, H, W), got "
                                + rest);
            }
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException(
                    method
                            + " needs the "
                            + side
                            + "'s stage output shapes: DistillSetup.optOutputShapes(...) was not"
                            + " given or holds no stage ([logits, pooled, stem, stage1..K])");
        }
        return List.copyOf(rest);
    }
}
