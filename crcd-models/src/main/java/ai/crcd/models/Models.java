package ai.crcd.models;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The model zoo: creates teacher and student networks by name (the CIFAR networks of RepDistiller
 * and torchvision's ImageNet {@code resnet18}/{@code resnet34}).
 *
 * <pre>{@code
 * CifarNetwork student = Models.create("resnet8x4");                 // 100 classes, RGB
 * CifarNetwork mnist = Models.create("resnet20", 10, 1);              // 10 classes, grey
 * CifarNetwork ab = Models.builder("vgg8").optPreActivation(true).build();
 * }</pre>
 *
 * <p>Names are matched case-insensitively; RepDistiller's {@code mobile_half} is accepted for
 * {@code MobileNetV2}. Networks are returned uninitialised: call {@code initialize(manager,
 * DataType.FLOAT32, new Shape(B, C, H, W))} or let a Trainer do it. Do not pass an initializer to
 * the training config, or the reference initialisation of the zoo is replaced. Architectures, stage
 * shapes and parameter counts: {@code docs/models.md}.
 */
public final class Models {

    private static final int[] RESNET = {16, 16, 32, 64};
    private static final int[] RESNET_X4 = {32, 64, 128, 256};

    private static final Map<String, Function<NetOptions, CifarNetwork>> REGISTRY =
            new LinkedHashMap<>();
    private static final Map<String, String> CANONICAL = new LinkedHashMap<>();

    static {
        for (int depth : new int[] {8, 14, 20, 32, 44, 56, 110}) {
            register("resnet" + depth, o -> ResNet.create(o, depth, RESNET));
        }
        register("resnet8x4", o -> ResNet.create(o, 8, RESNET_X4));
        register("resnet32x4", o -> ResNet.create(o, 32, RESNET_X4));
        for (int[] dk : new int[][] {{16, 1}, {16, 2}, {40, 1}, {40, 2}}) {
            register("wrn_" + dk[0] + "_" + dk[1], o -> WideResNet.create(o, dk[0], dk[1]));
        }
        int[] c64 = {64};
        int[] c128 = {128};
        register("vgg8", o -> Vgg.create(o, c64, c128, w(256, 1), w(512, 1), w(512, 1)));
        register("vgg11", o -> Vgg.create(o, c64, c128, w(256, 2), w(512, 2), w(512, 2)));
        register("vgg13", o -> Vgg.create(o, w(64, 2), w(128, 2), w(256, 2), w(512, 2), w(512, 2)));
        register("vgg16", o -> Vgg.create(o, w(64, 2), w(128, 2), w(256, 3), w(512, 3), w(512, 3)));
        register("vgg19", o -> Vgg.create(o, w(64, 2), w(128, 2), w(256, 4), w(512, 4), w(512, 4)));
        register("MobileNetV2", MobileNetV2::create);
        register("ShuffleV1", ShuffleNetV1::create);
        register("ShuffleV2", ShuffleNetV2::create);
        register("ResNet50", ResNet50::create);
        register("resnet18", o -> TorchResNet.create(o, TorchResNet.RESNET18));
        register("resnet34", o -> TorchResNet.create(o, TorchResNet.RESNET34));
        CANONICAL.put("mobile_half", "MobileNetV2");
    }

    private Models() {}

    private static void register(String name, Function<NetOptions, CifarNetwork> factory) {
        REGISTRY.put(name, factory);
        CANONICAL.put(name.toLowerCase(Locale.ROOT), name);
    }

    private static int[] w(int width, int count) {
        int[] a = new int[count];
        java.util.Arrays.fill(a, width);
        return a;
    }

    /**
     * Returns the names of all models, in the order of {@code docs/models.md}.
     *
     * @return resnet8 ... ResNet50, resnet18, resnet34, case as canonical
     */
    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    /**
     * Creates a network with 100 classes for 3-channel input.
     *
     * @param name a model name from {@link #names()}
     * @return the uninitialised network
     * @throws IllegalArgumentException for an unknown name
     */
    public static CifarNetwork create(String name) {
        return builder(name).build();
    }

    /**
     * Creates a network.
     *
     * @param name a model name from {@link #names()}
     * @param numClasses C, at least 1
     * @param inChannels input channels, at least 1
     * @return the uninitialised network
     * @throws IllegalArgumentException for an unknown name or a bad count
     */
    public static CifarNetwork create(String name, int numClasses, int inChannels) {
        return builder(name).optNumClasses(numClasses).optInChannels(inChannels).build();
    }

    /**
     * Returns a builder for the named network.
     *
     * @param name a model name from {@link #names()}
     * @return the builder
     * @throws IllegalArgumentException for an unknown name
     */
    public static Builder builder(String name) {
        return new Builder(canonical(name));
    }

    private static String canonical(String name) {
        String key = name == null ? null : CANONICAL.get(name.trim().toLowerCase(Locale.ROOT));
        if (key == null) {
            throw new IllegalArgumentException(
                    "unknown model '" + name + "', valid names: " + names());
        }
        return key;
    }

    /** Builds a network of the zoo; {@code opt*} settings are optional. */
    public static final class Builder {
        private final String name;
        private int numClasses = 100;
        private int inChannels = 3;
        private boolean preActivation;

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Sets the number of classes C of the classifier (default 100).
         *
         * @param numClasses C, at least 1
         * @return this builder
         */
        public Builder optNumClasses(int numClasses) {
            if (numClasses < 1) {
                throw new IllegalArgumentException(
                        "model '" + name + "': numClasses must be at least 1, got " + numClasses);
            }
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Sets the number of input channels (default 3; 1 for grey-scale images).
         *
         * @param inChannels Cin, at least 1
         * @return this builder
         */
        public Builder optInChannels(int inChannels) {
            if (inChannels < 1) {
                throw new IllegalArgumentException(
                        "model '" + name + "': inChannels must be at least 1, got " + inChannels);
            }
            this.inChannels = inChannels;
            return this;
        }

        /**
         * Sets whether the forward output also carries the pre-activation stage outputs
         * (preact1..K; default false).
         *
         * @param preActivation true to return them
         * @return this builder
         */
        public Builder optPreActivation(boolean preActivation) {
            this.preActivation = preActivation;
            return this;
        }

        /**
         * Builds the network.
         *
         * @return the uninitialised network
         */
        public CifarNetwork build() {
            return REGISTRY.get(name)
                    .apply(new NetOptions(name, numClasses, inChannels, preActivation));
        }
    }
}
