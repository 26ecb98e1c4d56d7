package ai.crcd.models;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Expected facts per model, derived by hand from the architectures (RepDistiller's definitions):
 * trainable parameter count for 100 classes and RGB input, pooled dim D and the shapes (C, H, W) of
 * stem and stages for a 32x32 input. docs/models.md shows the same table.
 */
record ModelSpec(String name, long params, int featureDim, long[][] shapes) {

    int numStages() {
        return shapes.length - 1;
    }

    @Override
    public String toString() {
        return name;
    }

    private static long[][] resnet(int c0, int c1, int c2, int c3) {
        return new long[][] {{c0, 32, 32}, {c1, 32, 32}, {c2, 16, 16}, {c3, 8, 8}};
    }

    private static final long[][] VGG = {
        {64, 32, 32}, {128, 16, 16}, {256, 8, 8}, {512, 4, 4}, {512, 4, 4}
    };

    static Stream<ModelSpec> all() {
        List<ModelSpec> s = new ArrayList<>();
        long[][] r = resnet(16, 16, 32, 64);
        s.add(new ModelSpec("resnet8", 83_892, 64, r));
        s.add(new ModelSpec("resnet14", 181_108, 64, r));
        s.add(new ModelSpec("resnet20", 278_324, 64, r));
        s.add(new ModelSpec("resnet32", 472_756, 64, r));
        s.add(new ModelSpec("resnet44", 667_188, 64, r));
        s.add(new ModelSpec("resnet56", 861_620, 64, r));
        s.add(new ModelSpec("resnet110", 1_736_564, 64, r));
        s.add(new ModelSpec("resnet8x4", 1_233_540, 256, resnet(32, 64, 128, 256)));
        s.add(new ModelSpec("resnet32x4", 7_433_860, 256, resnet(32, 64, 128, 256)));
        s.add(new ModelSpec("wrn_16_1", 180_916, 64, resnet(16, 16, 32, 64)));
        s.add(new ModelSpec("wrn_16_2", 703_284, 128, resnet(16, 32, 64, 128)));
        s.add(new ModelSpec("wrn_40_1", 569_780, 64, resnet(16, 16, 32, 64)));
        s.add(new ModelSpec("wrn_40_2", 2_255_156, 128, resnet(16, 32, 64, 128)));
        s.add(new ModelSpec("vgg8", 3_965_028, 512, VGG));
        s.add(new ModelSpec("vgg11", 9_277_284, 512, VGG));
        s.add(new ModelSpec("vgg13", 9_462_180, 512, VGG));
        s.add(new ModelSpec("vgg16", 14_774_436, 512, VGG));
        s.add(new ModelSpec("vgg19", 20_086_692, 512, VGG));
        s.add(
                new ModelSpec(
                        "MobileNetV2",
                        812_836,
                        1280,
                        new long[][] {
                            {16, 16, 16}, {12, 16, 16}, {16, 8, 8}, {48, 4, 4}, {160, 2, 2}
                        }));
        s.add(
                new ModelSpec(
                        "ShuffleV1",
                        949_258,
                        960,
                        new long[][] {{24, 32, 32}, {240, 16, 16}, {480, 8, 8}, {960, 4, 4}}));
        s.add(
                new ModelSpec(
                        "ShuffleV2",
                        1_355_528,
                        1024,
                        new long[][] {{24, 32, 32}, {116, 16, 16}, {232, 8, 8}, {464, 4, 4}}));
        s.add(
                new ModelSpec(
                        "ResNet50",
                        23_705_252,
                        2048,
                        new long[][] {
                            {64, 32, 32}, {256, 32, 32}, {512, 16, 16}, {1024, 8, 8}, {2048, 4, 4}
                        }));
        return s.stream();
    }
}
