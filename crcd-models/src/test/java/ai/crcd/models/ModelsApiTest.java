package ai.crcd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Registry, builder, error messages, initialisation statistics and the subsampled 1x1 conv. */
class ModelsApiTest {

    @Test
    void namesListsTheZooInOrder() {
        List<String> expected = ModelSpec.all().map(ModelSpec::name).collect(Collectors.toList());
        expected.add("resnet18"); // ImageNet networks (torchvision layout): TorchResNetTest
        expected.add("resnet34");
        assertEquals(expected, Models.names());
        assertEquals(24, Models.names().size());
    }

    @Test
    void unknownNameNamesTheValidOnes() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Models.create("resnet9"));
        assertEquals("unknown model 'resnet9', valid names: " + Models.names(), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Models.builder(null));
    }

    @Test
    void namesAreCaseInsensitiveAndMobileHalfIsAnAlias() {
        assertEquals("ResNet50", Models.builder("resnet50").build().modelName());
        assertEquals("MobileNetV2", Models.create("mobile_half").modelName());
        assertEquals("wrn_40_2", Models.create("WRN_40_2").modelName());
    }

    @Test
    void builderOptionsAndValidation() {
        CifarNetwork net = Models.builder("resnet8").optNumClasses(10).optInChannels(1).build();
        assertEquals(10, net.numClasses());
        assertEquals(1, net.inChannels());
        assertTrue(!net.hasPreActivation());
        assertTrue(Models.builder("vgg8").optPreActivation(true).build().hasPreActivation());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Models.builder("vgg8").optNumClasses(0));
        assertEquals("model 'vgg8': numClasses must be at least 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Models.create("vgg8", 10, 0));
    }

    @Test
    void wrongInputChannelsFailWithTheFix() {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create("resnet8");
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> net.initialize(m, DataType.FLOAT32, new Shape(2, 1, 28, 28)));
            assertTrue(e.getMessage().contains("optInChannels(1)"), e.getMessage());
            assertTrue(e.getMessage().contains("'resnet8'"), e.getMessage());
        }
    }

    @Test
    void initialisationFollowsTheReference() {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork resnet = init(m, "resnet32x4");
            for (Parameter p : resnet.getParameters().values()) {
                Shape s = p.getShape();
                switch (p.getType()) {
                    case GAMMA -> assertEquals(s.size(), p.getArray().sum().getFloat(), 0f);
                    case BETA -> assertEquals(0f, p.getArray().abs().sum().getFloat(), 0f);
                    default -> {}
                }
                if (p.getType() == Parameter.Type.WEIGHT
                        && s.dimension() == 4
                        && s.size() >= 100_000) {
                    // Kaiming normal, fan_out: std = sqrt(2 / (out * kh * kw))
                    double expected = Math.sqrt(2.0 / (s.get(0) * s.get(2) * s.get(3)));
                    assertEquals(expected, std(p.getArray()), 0.02 * expected, p.getName());
                }
            }
            // VGG classifier: N(0, 0.01), zero bias
            CifarNetwork vgg = init(m, "vgg8");
            assertEquals(0.01, std(vgg.classifierWeight().getArray()), 0.001);
            Parameter vggBias =
                    vgg.getParameters().stream()
                            .filter(e -> e.getKey().endsWith("classifier_bias"))
                            .findFirst()
                            .orElseThrow()
                            .getValue();
            assertEquals(0f, vggBias.getArray().abs().sum().getFloat(), 0f);
            // ShuffleNets keep PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            CifarNetwork shuffle = init(m, "ShuffleV1");
            NDArray w = shuffle.classifierWeight().getArray(); // (100, 960)
            double bound = 1 / Math.sqrt(960);
            assertTrue(w.abs().max().getFloat() <= bound);
            assertEquals(bound / Math.sqrt(3), std(w), 0.02 * bound);
        }
    }

    @Test
    void subsampledConvEqualsStridedConv() {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d inner = (Conv2d) Layers.conv(8, 1, 1, 1, false, Layers.KAIMING_OUT);
            SubsampledConv conv = new SubsampledConv(inner, 2);
            Shape in = new Shape(2, 4, 7, 7);
            conv.initialize(m, DataType.FLOAT32, in);
            NDArray x = m.randomNormal(in);
            NDArray y = conv.forward(new ParameterStore(m, false), new NDList(x), false).head();
            assertEquals(new Shape(2, 8, 4, 4), y.getShape());
            assertEquals(conv.getOutputShapes(new Shape[] {in})[0], y.getShape());
            float[] w =
                    inner.getParameters().get("weight").getArray().toFloatArray(); // (8, 4, 1, 1)
            float[] xs = x.toFloatArray();
            float[] expected = new float[2 * 8 * 4 * 4];
            for (int b = 0; b < 2; b++) {
                for (int o = 0; o < 8; o++) {
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 4; j++) {
                            double acc = 0;
                            for (int c = 0; c < 4; c++) {
                                acc += w[o * 4 + c] * xs[((b * 4 + c) * 7 + 2 * i) * 7 + 2 * j];
                            }
                            expected[((b * 8 + o) * 4 + i) * 4 + j] = (float) acc;
                        }
                    }
                }
            }
            assertArrayEquals(expected, y.toFloatArray(), 1e-5f);
        }
    }

    private static CifarNetwork init(NDManager m, String name) {
        CifarNetwork net = Models.create(name);
        net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
        return net;
    }

    private static double std(NDArray a) {
        float[] v = a.toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float f : v) {
            sum += f;
            sq += (double) f * f;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }
}
