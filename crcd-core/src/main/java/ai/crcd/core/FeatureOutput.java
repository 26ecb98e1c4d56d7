package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The output contract of every teacher and student network used with crcd: the logits and the
 * ordered intermediate features that distillers read.
 *
 * <p>A network's forward pass returns an {@link NDList} laid out as follows (this is the one place
 * where the layout is defined; {@code crcd-models} follows it for every architecture and a DJL user
 * who brings their own network returns the same layout):
 *
 * <pre>
 * index 0        logits              (B, C)          named "logits"
 * index 1        pooled feature      (B, D)          named "pooled"  (input of the final linear layer)
 * index 2        stem output         (B, C0, H0, W0) named "stem"
 * index 3..2+K   stage outputs       (B, Ck, Hk, Wk) named "stage1".."stageK" (the stage's output as
 *                the next stage reads it: after its last ReLU, or the raw residual sum for WRNs)
 * index 3+K..    pre-activation stage outputs (only when requested)   named "preact1".."preactK"
 * </pre>
 *
 * <p>K is the number of stages of the architecture (3 for CIFAR ResNets and WRNs, 4 or 5 for the
 * others). The pre-activation variants are the same tensors before the stage's final ReLU (for
 * AB/FT-style distillers); networks return them only when built with pre-activation output on.
 * Per-architecture details (WRN, MobileNetV2, ShuffleNetV2) are in docs/models.md. Arrays carry the
 * names above ({@link NDArray#getName()}) so that the layout can be checked.
 */
public final class FeatureOutput {

    private final NDArray logits;
    private final NDArray pooled;
    private final NDArray stem;
    private final List<NDArray> stages;
    private final List<NDArray> preActStages;

    private FeatureOutput(
            NDArray logits,
            NDArray pooled,
            NDArray stem,
            List<NDArray> stages,
            List<NDArray> preActStages) {
        this.logits = logits;
        this.pooled = pooled;
        this.stem = stem;
        this.stages = Collections.unmodifiableList(stages);
        this.preActStages = Collections.unmodifiableList(preActStages);
    }

    /**
     * Creates the output from its parts and names the arrays.
     *
     * @param logits (B, C)
     * @param pooled (B, D)
     * @param stem (B, C0, H0, W0), may be {@code null} for networks without a distinct stem
     * @param stages each (B, Ck, Hk, Wk)
     * @param preActStages same shapes as {@code stages}, or an empty list when not requested
     * @return the output
     */
    public static FeatureOutput of(
            NDArray logits,
            NDArray pooled,
            NDArray stem,
            List<NDArray> stages,
            List<NDArray> preActStages) {
        if (!preActStages.isEmpty() && preActStages.size() != stages.size()) {
            throw new IllegalArgumentException(
                    "pre-activation outputs: expected "
                            + stages.size()
                            + " (one per stage), got "
                            + preActStages.size());
        }
        logits.setName("logits");
        pooled.setName("pooled");
        if (stem != null) {
            stem.setName("stem");
        }
        for (int i = 0; i < stages.size(); i++) {
            stages.get(i).setName("stage" + (i + 1));
        }
        for (int i = 0; i < preActStages.size(); i++) {
            preActStages.get(i).setName("preact" + (i + 1));
        }
        return new FeatureOutput(
                logits, pooled, stem, new ArrayList<>(stages), new ArrayList<>(preActStages));
    }

    /**
     * Reads the layout documented on this class from a network's forward output.
     *
     * @param list the forward output
     * @return the output
     * @throws IllegalArgumentException if the list does not follow the layout
     */
    public static FeatureOutput fromNDList(NDList list) {
        if (list.size() < 2) {
            throw new IllegalArgumentException(
                    "a crcd network returns at least [logits, pooled, ...]; got "
                            + list.size()
                            + " arrays");
        }
        NDArray logits = list.get(0);
        NDArray pooled = list.get(1);
        NDArray stem = null;
        List<NDArray> stages = new ArrayList<>();
        List<NDArray> pre = new ArrayList<>();
        for (int i = 2; i < list.size(); i++) {
            NDArray a = list.get(i);
            String name = a.getName();
            if ("stem".equals(name)) {
                stem = a;
            } else if (name != null && name.startsWith("preact")) {
                pre.add(a);
            } else {
                stages.add(a);
            }
        }
        return new FeatureOutput(logits, pooled, stem, stages, pre);
    }

    /**
     * Returns the layout documented on this class as an NDList.
     *
     * @return [logits, pooled, stem?, stage1..K, preact1..K?]
     */
    public NDList toNDList() {
        NDList list = new NDList(logits, pooled);
        if (stem != null) {
            list.add(stem);
        }
        list.addAll(stages);
        list.addAll(preActStages);
        return list;
    }

    /**
     * Returns the logits.
     *
     * @return (B, C)
     */
    public NDArray logits() {
        return logits;
    }

    /**
     * Returns the pooled feature, the input of the final linear classifier.
     *
     * @return (B, D)
     */
    public NDArray pooled() {
        return pooled;
    }

    /**
     * Returns the stem output.
     *
     * @return (B, C0, H0, W0), or {@code null} if the network has none
     */
    public NDArray stem() {
        return stem;
    }

    /**
     * Returns the stage outputs in order.
     *
     * @return K arrays, each (B, Ck, Hk, Wk)
     */
    public List<NDArray> stages() {
        return stages;
    }

    /**
     * Returns the pre-activation stage outputs (empty unless requested from the network).
     *
     * @return K arrays or none
     */
    public List<NDArray> preActStages() {
        return preActStages;
    }
}
