package ai.crcd.models;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import java.util.ArrayList;
import java.util.List;

/**
 * ResNet50 with a CIFAR stem, as in RepDistiller's {@code resnetv2.py}: 3x3 conv(64)-BN-ReLU stem
 * at full resolution (no max pool), four stages of 3, 4, 6, 3 bottleneck blocks (planes 64, 128,
 * 256, 512, expansion 4, strides 1, 2, 2, 2, stride on the 3x3 conv), 1x1 conv + BN projection
 * shortcuts, global average pooling to 2048, linear classifier. Convolutions have no bias and
 * Kaiming fan-out initialisation.
 */
public final class ResNet50 extends CifarNetwork {

    private static final int[] BLOCKS = {3, 4, 6, 3};
    private static final int[] PLANES = {64, 128, 256, 512};
    private static final int EXPANSION = 4;
    private static final int FEATURE_DIM = 2048;

    private ResNet50(NetOptions options) {
        super(
                options,
                ConvBn.of(64, 3, 1, true),
                stages(),
                null,
                FEATURE_DIM,
                Layers.TORCH_DEFAULT,
                Layers.torchDefaultBias(FEATURE_DIM));
    }

    /**
     * Creates the network.
     *
     * @param options name, classes, input channels, pre-activation output
     * @return the network
     */
    static ResNet50 create(NetOptions options) {
        return new ResNet50(options);
    }

    private static List<Block> stages() {
        List<Block> stages = new ArrayList<>(BLOCKS.length);
        int in = 64;
        for (int s = 0; s < BLOCKS.length; s++) {
            int planes = PLANES[s];
            int out = planes * EXPANSION;
            SequentialBlock stage = new Chain(); // registered as "stage<k>": names unchanged
            for (int i = 0; i < BLOCKS[s]; i++) {
                int stride = (i == 0 && s > 0) ? 2 : 1;
                stage.add(
                        ResidualUnit.of(
                                stride != 1 || in != out,
                                out,
                                stride,
                                ConvBn.of(planes, 1, 1, true),
                                ConvBn.of(planes, 3, stride, true),
                                ConvBn.of(out, 1, 1, false)));
                in = out;
            }
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return BLOCKS.length;
    }
}
