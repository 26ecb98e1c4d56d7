package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;

/**
 * RepDistiller's {@code feats} list ({@code model(x, is_feat=True)}) over crcd's {@link
 * FeatureOutput}: {@code feats = [stem, stage1, ..., stageK, pooled]}, so {@code feats[0]} is the
 * stem, {@code feats[1:-1]} the stages, {@code feats[-2]} the last stage and {@code feats[-1]} the
 * pooled vector. The zoo's methods index features this way, as their reference code does.
 */
public final class FeatureMaps {

    private FeatureMaps() {}

    /**
     * Returns {@code feats[index]} of a network's output.
     *
     * @param out the output
     * @param index 0 = stem, 1..K = stages, K + 1 = pooled
     * @return the array, (B, C, H, W) for 0..K, (B, D) for K + 1
     * @throws IllegalArgumentException for an index outside 0..K+1 or a missing stem
     */
    public static NDArray get(FeatureOutput out, int index) {
        int k = out.stages().size();
        if (index == 0) {
            if (out.stem() == null) {
                throw new IllegalArgumentException("feats[0]: the network returns no stem output");
            }
            return out.stem();
        }
        if (index >= 1 && index <= k) {
            return out.stages().get(index - 1);
        }
        if (index == k + 1) {
            return out.pooled();
        }
        throw new IllegalArgumentException(
                "feats["
                        + index
                        + "]: outside 0.."
                        + (k + 1)
                        + " (stem, stage1..stage"
                        + k
                        + ", pooled)");
    }

    /**
     * Returns the shapes of {@code feats} from a network's output shapes as {@link
     * ai.crcd.core.DistillSetup#teacherShapes()} gives them ({@code [logits, pooled, stem,
     * stage1..K, preact1..K?]}, the layout of {@link FeatureOutput}).
     *
     * <p>Shapes carry no names, so this reads the layout of crcd-models' networks: the first map is
     * the stem; when the maps after it are two equal halves, the second half is the pre-activation
     * outputs and is left out.
     *
     * @param outputShapes the output shapes, at least logits and pooled
     * @return {@code [stem, stage1..K, pooled]}, empty when {@code outputShapes} is empty
     */
    public static List<Shape> shapes(List<Shape> outputShapes) {
        if (outputShapes.isEmpty()) {
            return List.of();
        }
        if (outputShapes.size() < 3) {
            throw new IllegalArgumentException(
                    "network output shapes "
                            + outputShapes
                            + ": no feature maps after [logits, pooled]");
        }
        List<Shape> maps = new ArrayList<>(outputShapes.subList(2, outputShapes.size()));
        int rest = maps.size() - 1;
        if (rest > 0 && rest % 2 == 0) {
            int k = rest / 2;
            if (maps.subList(1, 1 + k).equals(maps.subList(1 + k, maps.size()))) {
                maps = new ArrayList<>(maps.subList(0, 1 + k));
            }
        }
        maps.add(outputShapes.get(1));
        return maps;
    }

    /**
     * Returns the number of stages K of a {@link #shapes} list.
     *
     * @param feats {@code [stem, stage1..K, pooled]}
     * @return K
     */
    public static int stageCount(List<Shape> feats) {
        return feats.size() - 2;
    }

    /**
     * Formats a (N, C, H, W) shape per sample as {@code CxHxW}.
     *
     * @param s the shape
     * @return e.g. {@code 64x8x8}
     */
    static String perSample(Shape s) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < s.dimension(); i++) {
            b.append(i > 1 ? "x" : "").append(s.get(i));
        }
        return b.toString();
    }

    /**
     * Returns the elements per sample of a shape (all axes but the first).
     *
     * @param s (N, ...)
     * @return the product of the other axes
     */
    static long perSampleSize(Shape s) {
        return s.size() / s.get(0);
    }

    /**
     * Sums a per-pair loss over the zipped stage pairs (the first min(Ks, Kt) stages, as Python's
     * {@code zip} in RepDistiller's {@code feat_s[1:-1]} loops), each pair brought to one height by
     * {@link AdaptiveAvgPool#matchHeights}, the teacher's map detached.
     *
     * @param method the method's name for the message
     * @param batch stage outputs of both networks, the student's with gradient
     * @param pairLoss (student map, teacher map) of one height to a scalar
     * @return () the sum
     * @throws IllegalStateException when the networks return no stage outputs
     */
    static NDArray sumOverStagePairs(
            String method, DistillBatch batch, BinaryOperator<NDArray> pairLoss) {
        List<NDArray> gs = batch.student().stages();
        List<NDArray> gt = batch.teacher().stages();
        int k = Math.min(gs.size(), gt.size());
        NDArray sum = null;
        for (int i = 0; i < k; i++) {
            NDArray[] pair = AdaptiveAvgPool.matchHeights(gs.get(i), gt.get(i).stopGradient());
            NDArray loss = pairLoss.apply(pair[0], pair[1]); // ()
            sum = sum == null ? loss : sum.add(loss);
        }
        if (sum == null) {
            throw new IllegalStateException(method + ": the networks return no stage outputs");
        }
        return sum;
    }

    /**
     * Checks, when the setup has the output shapes, that every zipped stage pair (the first min(Ks,
     * Kt) stages, as Python's {@code zip}) has one spatial size after {@link
     * AdaptiveAvgPool#matchHeights}.
     *
     * @param method the method's name for the message
     * @param setup the setup
     * @throws IllegalArgumentException for a pair of equal heights and different widths
     */
    static void checkStagePairs(String method, DistillSetup setup) {
        if (setup.teacherShapes().isEmpty() || setup.studentShapes().isEmpty()) {
            return;
        }
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        List<Shape> s = FeatureMaps.shapes(setup.studentShapes());
        int k = Math.min(FeatureMaps.stageCount(t), FeatureMaps.stageCount(s));
        for (int i = 1; i <= k; i++) {
            long[] a = AdaptiveAvgPool.matchedSize(s.get(i), t.get(i));
            long[] b = AdaptiveAvgPool.matchedSize(t.get(i), s.get(i));
            if (a[0] != b[0] || a[1] != b[1]) {
                throw new IllegalArgumentException(
                        method
                                + ": stage "
                                + i
                                + " of the student ("
                                + FeatureMaps.perSample(s.get(i))
                                + ") and of the teacher ("
                                + FeatureMaps.perSample(t.get(i))
                                + ") have equal heights but different widths, which RepDistiller's"
                                + " pooling rule does not match; use square feature maps");
            }
        }
    }

    /**
     * Returns {@code B * sum over zipped stages (perStudent * |s| + perTeacher * |t|)} values in
     * bytes, |s| and |t| the per-sample sizes of the stage maps.
     *
     * @param setup the output shapes; 0 when absent
     * @param batchSize B
     * @param perStudent copies of each student stage map
     * @param perTeacher copies of each teacher stage map
     * @return bytes
     */
    static long stageBytes(
            DistillSetup setup, int batchSize, double perStudent, double perTeacher) {
        if (setup.teacherShapes().isEmpty() || setup.studentShapes().isEmpty()) {
            return 0;
        }
        List<Shape> t = FeatureMaps.shapes(setup.teacherShapes());
        List<Shape> s = FeatureMaps.shapes(setup.studentShapes());
        int k = Math.min(FeatureMaps.stageCount(t), FeatureMaps.stageCount(s));
        double values = 0;
        for (int i = 1; i <= k; i++) {
            values +=
                    perStudent * FeatureMaps.perSampleSize(s.get(i))
                            + perTeacher * FeatureMaps.perSampleSize(t.get(i));
        }
        return (long) (values * batchSize * setup.dataType().getNumOfBytes());
    }
}
