package ai.crcd.train.model;

import ai.crcd.core.LogitsOnlyBlock;
import ai.crcd.models.Models;
import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * DJL {@link BlockFactory} named by every crcd model folder's {@code serving.properties} ({@code
 * blockFactory=...}), so that a {@code Criteria} with {@code optModelPath(dir)} builds the network
 * itself: the architecture, class count and input channels come from the folder's keys, the
 * weights' checksum is checked, and the block is the {@link LogitsOnlyBlock} view of the network
 * (one output, as DJL's translators expect).
 */
public class CrcdBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** Creates the factory (DJL instantiates it by class name). */
    public CrcdBlockFactory() {}

    /**
     * Builds the network a model folder describes.
     *
     * @param model the model being loaded
     * @param modelPath the model folder
     * @param arguments the folder's {@code serving.properties} keys
     * @return the logits-only view of a fresh network
     * @throws IOException if the weights cannot be read for the checksum
     * @throws IllegalArgumentException naming the folder and the bad key or damaged file
     */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments)
            throws IOException {
        ModelInfo info =
                ModelInfo.fromProperties(
                        arguments, null, modelPath.resolve(ModelFolder.PROPERTIES).toString());
        ModelFolder.verify(modelPath, arguments);
        return new LogitsOnlyBlock(
                Models.create(info.architecture(), info.numClasses(), info.inChannels()));
    }
}
