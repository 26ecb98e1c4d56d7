package ai.crcd.models;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CIFAR ResNets (resnet8 ... resnet110, resnet8x4, resnet32x4) as in RepDistiller's {@code
 * resnet.py}: 3x3 conv-BN-ReLU stem, three stages of (depth - 2) / 6 post-activation basic blocks
 * (strides 1, 2, 2), 1x1 conv + BN projection shortcut where the shape changes, global average
 * pooling, linear classifier. Convolutions have no bias and Kaiming fan-out initialisation; the
 * classifier keeps PyTorch's default initialisation.
 *
 * <p>Stages end in a ReLU; the pre-activation outputs are the residual sums before it.
 */
public final class ResNet extends CifarNetwork {

    private static final int STAGES = 3;

    private ResNet(NetOptions options, int depth, int[] filters) {
        super(
                options,
                ConvBn.of(filters[0], 3, 1, true),
                stages(depth, filters),
                null,
                filters[3],
                Layers.TORCH_DEFAULT,
                Layers.torchDefaultBias(filters[3]));
    }

    /**
     * Creates a CIFAR ResNet.
     *
     * @param options name, classes, input channels, pre-activation output
     * @param depth 6n + 2
     * @param filters channels of stem and the three stages, e.g. {16, 16, 32, 64}
     * @return the network
     */
    static ResNet create(NetOptions options, int depth, int... filters) {
        if ((depth - 2) % 6 != 0) {
            throw new IllegalArgumentException("ResNet depth must be 6n+2, got " + depth);
        }
        return new ResNet(options, depth, filters);
    }

    private static List<Block> stages(int depth, int[] filters) {
        int n = (depth - 2) / 6;
        int[] planes = Arrays.copyOfRange(filters, 1, 1 + STAGES);
        int[] blocks = new int[STAGES];
        Arrays.fill(blocks, n);
        return basicStages(filters[0], planes, blocks);
    }

    /**
     * Builds stages of basic residual units (two 3x3 conv-BN, a projection shortcut where the shape
     * changes), the first unit of every stage after the first with stride 2: the CIFAR ResNets' and
     * torchvision's ResNet18/34 stages alike.
     *
     * @param in the channels entering the first stage
     * @param planes the channels of each stage
     * @param blocks the units of each stage
     * @return one block per stage
     */
    static List<Block> basicStages(int in, int[] planes, int[] blocks) {
        List<Block> stages = new ArrayList<>(planes.length);
        for (int s = 0; s < planes.length; s++) {
            SequentialBlock stage = new Chain();
            for (int i = 0; i < blocks[s]; i++) {
                int stride = (i == 0 && s > 0) ? 2 : 1;
                stage.add(
                        ResidualUnit.of(
                                stride != 1 || in != planes[s],
                                planes[s],
                                stride,
                                ConvBn.of(planes[s], 3, stride, true),
                                ConvBn.of(planes[s], 3, 1, false)));
                in = planes[s];
            }
            stages.add(stage);
        }
        return stages;
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return STAGES;
    }
}
