package ai.crcd.models;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.FeatureOutput;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A CIFAR-style network of the crcd model zoo: stem, K stages, optional head, global average
 * pooling and one linear classifier. Instances come from {@link Models}.
 *
 * <p>Input: NDList [x], x (B, inChannels, H, W) (32x32 for CIFAR; other sizes work, see {@code
 * docs/models.md}). Output, for any {@code training} flag, the {@link FeatureOutput} layout:
 *
 * <pre>
 * logits (B, C), pooled (B, D), stem (B, C0, H0, W0), stage1..K (B, Ck, Hk, Wk),
 * preact1..K (same shapes as the stages; only when built with optPreActivation(true))
 * </pre>
 *
 * <p>Internal protocol between the parts (package-private): the stem and each stage return an
 * NDList whose first array is the feature handed on; a stage that ends in a ReLU returns [out,
 * preact], a stage without a final ReLU returns [out] (its pre-activation output is the output
 * itself, returned as a separate view so that the arrays can carry distinct names). The head, if
 * any, maps the last stage's list to the (B, D, h, w) map that is pooled.
 */
public abstract class CifarNetwork extends AbstractBlock implements DistillableNetwork {

    private final NetOptions options;
    private final int featureDim;
    private final Block stem;
    private final List<Block> stages;
    private final Block head;
    private final Linear classifier;

    /** The parameter arrays {@link ChannelsLast#parameters} made (identity set). */
    private final Set<NDArray> channelsLastArrays =
            Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * Registers the parts as children.
     *
     * @param options name, classes, input channels, pre-activation output
     * @param stem the stem
     * @param stages the K stages in order
     * @param head the block between the last stage and pooling, or {@code null}
     * @param featureDim D, the channels of the pooled map
     * @param fcWeightInit classifier weight initialiser
     * @param fcBiasInit classifier bias initialiser
     */
    CifarNetwork(
            NetOptions options,
            Block stem,
            List<Block> stages,
            Block head,
            int featureDim,
            Initializer fcWeightInit,
            Initializer fcBiasInit) {
        this.options = options;
        this.featureDim = featureDim;
        this.stem = addChildBlock("stem", stem);
        List<Block> list = new ArrayList<>(stages.size());
        for (int i = 0; i < stages.size(); i++) {
            list.add(addChildBlock("stage" + (i + 1), stages.get(i)));
        }
        this.stages = Collections.unmodifiableList(list);
        this.head = head == null ? null : addChildBlock("head", head);
        this.classifier =
                addChildBlock(
                        "classifier",
                        Layers.linear(options.numClasses(), fcWeightInit, fcBiasInit));
    }

    /**
     * Returns the number of stages K (3 for ResNets, WRNs and ShuffleNets, 4 for VGG, MobileNetV2
     * and ResNet50).
     *
     * @return K
     */
    public abstract int numStages();

    /**
     * Returns the canonical model name, as listed by {@link Models#names()}.
     *
     * @return the name
     */
    public String modelName() {
        return options.name();
    }

    /** {@inheritDoc} */
    @Override
    public int numClasses() {
        return options.numClasses();
    }

    /** {@inheritDoc} */
    @Override
    public int featureDim() {
        return featureDim;
    }

    /**
     * Returns the number of input channels the network was built for.
     *
     * @return Cin
     */
    public int inChannels() {
        return options.inChannels();
    }

    /**
     * Returns whether the forward output carries the pre-activation stage outputs.
     *
     * @return true if built with {@code optPreActivation(true)}
     */
    public boolean hasPreActivation() {
        return options.preActivation();
    }

    /** {@inheritDoc} */
    @Override
    public Parameter classifierWeight() {
        return classifier.getParameters().get("weight");
    }

    /**
     * Returns the number of trainable parameters (BatchNorm running statistics excluded). The
     * network must be initialised.
     *
     * @return the count
     */
    public long numTrainableParameters() {
        long n = 0;
        for (Parameter p : getParameters().values()) {
            if (p.requiresGradient()) {
                n += p.getShape().size();
            }
        }
        return n;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        boolean pre = options.preActivation();
        NDList in = ChannelsLast.of(inputs); // [x (B, Cin, H, W)], channels-last on the CPU
        NDList cur = stem.forward(ps, in, training);
        if (in != inputs) {
            Chain.release(in.head(), cur); // the channels-last copy of the input
        }
        NDArray stemOut = cur.head(); // (B, C0, H0, W0)
        List<NDArray> stageOuts = new ArrayList<>(stages.size());
        List<NDArray> preActs = pre ? new ArrayList<>(stages.size()) : Collections.emptyList();
        boolean keepSecond = false; // whether cur.get(1) is a returned feature (a preact)
        for (Block stage : stages) {
            NDList next = stage.forward(ps, cur, training);
            releaseTail(cur, next, keepSecond);
            cur = next;
            NDArray out = cur.head(); // (B, Ck, Hk, Wk)
            stageOuts.add(out);
            if (pre) {
                preActs.add(cur.size() > 1 ? cur.get(1) : out.reshape(out.getShape()));
            }
            keepSecond = pre;
        }
        NDList mapped = head == null ? new NDList(cur.head()) : head.forward(ps, cur, training);
        releaseTail(cur, mapped, keepSecond);
        NDArray map = mapped.head(); // (B, D, h, w)
        NDArray pooled = Pool.globalAvgPool2d(map); // (B, D)
        Chain.release(map, new NDList(cur.head())); // the head's map; never a stage output
        NDArray logits = classifier.forward(ps, new NDList(pooled), training).head(); // (B, C)
        return FeatureOutput.of(logits, pooled, stemOut, stageOuts, preActs).toNDList();
    }

    /**
     * Closes what a part returned after its first array once the next part has consumed it: the
     * stem's or a stage's second array (a stage's pre-activation, the WRN's next batch norm), which
     * is no feature unless it is a returned pre-activation output. The first array is kept: it is
     * the stem or stage output.
     *
     * @param consumed the list the next part was given
     * @param produced the next part's output (arrays it passed through stay)
     * @param keepSecond whether {@code consumed.get(1)} is returned as a preact feature
     */
    private static void releaseTail(NDList consumed, NDList produced, boolean keepSecond) {
        for (int i = keepSecond ? 2 : 1; i < consumed.size(); i++) {
            Chain.release(consumed.get(i), produced);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] cur = stem.getOutputShapes(inputShapes);
        Shape stemShape = cur[0];
        List<Shape> stageShapes = new ArrayList<>();
        for (Block stage : stages) {
            cur = stage.getOutputShapes(cur);
            stageShapes.add(cur[0]);
        }
        long batch = inputShapes[0].get(0);
        List<Shape> out = new ArrayList<>();
        out.add(new Shape(batch, options.numClasses()));
        out.add(new Shape(batch, featureDim));
        out.add(stemShape);
        out.addAll(stageShapes);
        if (options.preActivation()) {
            out.addAll(stageShapes);
        }
        return out.toArray(new Shape[0]);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU in float32 the convolution weights are then put in channels-last order (see
     * {@link ChannelsLast#parameters}).
     */
    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        super.initialize(manager, dataType, inputShapes);
        ChannelsLast.parameters(this, channelsLastArrays);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the CPU in float32 the loaded convolution weights are then put in channels-last order
     * (see {@link ChannelsLast#parameters}).
     */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is)
            throws IOException, MalformedModelException {
        super.loadParameters(manager, is);
        ChannelsLast.parameters(this, channelsLastArrays);
    }

    /** {@inheritDoc} */
    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        Shape in = inputShapes[0];
        if (in.dimension() != 4 || in.get(1) != options.inChannels()) {
            throw new IllegalArgumentException(
                    "model '"
                            + options.name()
                            + "' expects input (B, "
                            + options.inChannels()
                            + ", H, W), got "
                            + in
                            + "; build it with Models.builder(\""
                            + options.name()
                            + "\").optInChannels("
                            + (in.dimension() == 4 ? in.get(1) : "<channels>")
                            + ") or feed NCHW images");
        }
        super.beforeInitialize(inputShapes);
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        stem.initialize(manager, dataType, inputShapes);
        Shape[] cur = stem.getOutputShapes(inputShapes);
        for (Block stage : stages) {
            stage.initialize(manager, dataType, cur);
            cur = stage.getOutputShapes(cur);
        }
        if (head != null) {
            head.initialize(manager, dataType, cur);
            cur = head.getOutputShapes(cur);
        }
        if (cur[0].get(1) != featureDim) {
            throw new IllegalStateException(
                    options.name()
                            + ": pooled map has "
                            + cur[0].get(1)
                            + " channels, expected "
                            + featureDim);
        }
        classifier.initialize(manager, dataType, new Shape(inputShapes[0].get(0), featureDim));
    }
}
