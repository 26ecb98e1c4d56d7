package ai.crcd.models;

/**
 * ResNet18 and ResNet34 in torchvision's layout ({@code torchvision.models.resnet18/34}), for
 * ImageNet-size input: {@link ImageNetStem} (7x7/2 conv(64)-BN-ReLU, 3x3/2 max pool), four stages
 * of 2, 2, 2, 2 (ResNet18) or 3, 4, 6, 3 (ResNet34) post-activation basic blocks (planes 64, 128,
 * 256, 512, strides 1, 2, 2, 2, stride on the first 3x3 conv), 1x1 conv + BN downsample where the
 * shape changes, global average pooling to 512, linear classifier. Initialisation as torchvision:
 * convolutions Kaiming normal fan-out, BN weight 1 bias 0 (no zero-init of the last BN,
 * torchvision's default), classifier PyTorch's default U(+-1/sqrt(512)). With 1000 classes the
 * trainable parameter counts are torchvision's: 11,689,512 and 21,797,672.
 *
 * <p>Parameter names map one to one onto torchvision's state-dict keys (docs/models.md): {@code
 * conv1/bn1} = {@code stem_conv/stem_bn}; {@code layer{s}.{i}.conv{j}/bn{j}} = block i of {@code
 * stage{s}}, {@code branch} layer j; {@code layer{s}.{i}.downsample.0/1} = its {@code shortcut}
 * conv/bn; {@code fc} = {@code classifier}. The stem output of the {@code FeatureOutput} is the map
 * after the max pool (the input of {@code layer1}).
 */
public final class TorchResNet extends CifarNetwork {

    /** Blocks per stage of ResNet18. */
    static final int[] RESNET18 = {2, 2, 2, 2};

    /** Blocks per stage of ResNet34. */
    static final int[] RESNET34 = {3, 4, 6, 3};

    private static final int[] PLANES = {64, 128, 256, 512};
    private static final int FEATURE_DIM = 512;

    private TorchResNet(NetOptions options, int[] blocks) {
        super(
                options,
                new ImageNetStem(PLANES[0]),
                ResNet.basicStages(PLANES[0], PLANES, blocks),
                null,
                FEATURE_DIM,
                Layers.TORCH_DEFAULT,
                Layers.torchDefaultBias(FEATURE_DIM));
    }

    /**
     * Creates the network.
     *
     * @param options name, classes, input channels, pre-activation output
     * @param blocks basic blocks per stage, 4 entries
     * @return the network
     */
    static TorchResNet create(NetOptions options, int[] blocks) {
        return new TorchResNet(options, blocks);
    }

    /** {@inheritDoc} */
    @Override
    public int numStages() {
        return PLANES.length;
    }
}
