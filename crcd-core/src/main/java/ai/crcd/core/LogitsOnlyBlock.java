package ai.crcd.core;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * A logits-only view of a crcd network: the forward pass returns just {@code [logits (B, C)]}
 * instead of the whole {@link FeatureOutput} layout, so that DJL's stock translators (e.g. {@code
 * ImageClassificationTranslator}, which expects one output) and {@code Predictor}s work with it.
 *
 * <p>The view owns no parameters of its own and is transparent on disk: {@link
 * #saveParameters}/{@link #loadParameters} read and write exactly the wrapped network's parameter
 * stream, so a {@code .params} file saved from the bare network ({@code model.setBlock(network)})
 * loads into the view and vice versa.
 *
 * <pre>{@code
 * Model model = Model.newInstance("resnet8");
 * model.setBlock(new LogitsOnlyBlock(Models.create("resnet8", 10, 1)));
 * model.load(dir);
 * try (Predictor<Image, Classifications> p = model.newPredictor(translator)) { ... }
 * }</pre>
 */
public class LogitsOnlyBlock extends AbstractBlock {

    private final Block network;

    /**
     * Wraps a network.
     *
     * @param network a network returning {@code [logits, ...]} (any {@link FeatureOutput} network);
     *     initialised or not
     */
    public LogitsOnlyBlock(Block network) {
        this.network = addChildBlock("network", network);
    }

    /**
     * Returns the wrapped network.
     *
     * @return the network
     */
    public Block network() {
        return network;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = network.forward(ps, inputs, training, params);
        return new NDList(out.get(0)); // (B, C)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {network.getOutputShapes(inputShapes)[0]};
    }

    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        network.initialize(manager, dataType, inputShapes);
    }

    @Override
    public PairList<String, Shape> describeInput() {
        return network.describeInput();
    }

    /**
     * Writes the wrapped network's parameters, exactly as the bare network would.
     *
     * @param os the stream
     * @throws IOException if writing fails
     */
    @Override
    public void saveParameters(DataOutputStream os) throws IOException {
        network.saveParameters(os);
    }

    /**
     * Reads parameters written by the bare network (or by this view) into the wrapped network.
     *
     * @param manager the manager for the arrays
     * @param is the stream
     * @throws IOException if reading fails
     * @throws MalformedModelException if the stream is not the network's
     */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is)
            throws IOException, MalformedModelException {
        network.loadParameters(manager, is);
        inputShapes = network.getInputShapes();
    }
}
