package ai.crcd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.FeatureOutput;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * torchvision-layout ResNet18/34: parameter counts and tensor counts equal torchvision's, the
 * FeatureOutput layout at 224x224 and at a small input, gradients reaching every parameter, the
 * stem (7x7/2 conv pad 3, BN, ReLU, 3x3/2 max pool pad 1) against a plain-Java computation, and
 * torchvision's initialisation.
 */
class TorchResNetTest {

    /**
     * torchvision: sum(p.numel() for p in resnet18().parameters()) = 11,689,512; resnet34:
     * 21,797,672. Tensors: convs = 1 + 2 * blocks + 3 downsamples, each with one BN (gamma, beta),
     * plus fc weight and bias.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"resnet18, 11689512, 8", "resnet34, 21797672, 16"})
    void parameterCountsEqualTorchvision(String name, long params, int blocks) {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create(name, 1000, 3);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            assertEquals(params, net.numTrainableParameters());
            int convs = 1 + 2 * blocks + 3;
            int trainable = 0;
            int running = 0;
            for (Pair<String, Parameter> p : net.getParameters()) {
                if (p.getValue().requiresGradient()) {
                    trainable++;
                } else {
                    running++;
                }
            }
            assertEquals(convs * 3 + 2, trainable);
            assertEquals(convs * 2, running);
            assertEquals(new Shape(1000, 512), net.classifierWeight().getShape());
            assertEquals(4, net.numStages());
            assertEquals(512, net.featureDim());
            // 100 classes, grey: 900 * 513 fewer in fc, 2 * 64 * 49 fewer in the stem conv
            CifarNetwork grey = Models.create(name, 100, 1);
            grey.initialize(m, DataType.FLOAT32, new Shape(1, 1, 64, 64));
            assertEquals(params - 900L * 513 - 2L * 64 * 49, grey.numTrainableParameters());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"resnet18", "resnet34"})
    void featureOutputAt224(String name) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape input = new Shape(1, 3, 224, 224);
            CifarNetwork net = Models.create(name, 1000, 3);
            net.initialize(m, DataType.FLOAT32, input);
            NDList out =
                    net.forward(
                            new ParameterStore(m, false), new NDList(m.randomNormal(input)), false);
            long[][] expected = {
                {64, 56, 56}, {64, 56, 56}, {128, 28, 28}, {256, 14, 14}, {512, 7, 7}
            };
            checkLayout(net, input, out, expected, 1000);
        }
    }

    @Test
    void smallInputTrainsEveryParameterWithPreActivations() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape input = new Shape(2, 3, 64, 64);
            CifarNetwork net =
                    Models.builder("resnet18").optNumClasses(10).optPreActivation(true).build();
            net.initialize(m, DataType.FLOAT32, input);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = m.randomNormal(input);
            NDArray weights = m.randomNormal(new Shape(2, 10));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = net.forward(ps, new NDList(x), true);
                long[][] expected = {
                    {64, 16, 16}, {64, 16, 16}, {128, 8, 8}, {256, 4, 4}, {512, 2, 2}
                };
                checkLayout(net, input, out, expected, 10);
                FeatureOutput f = FeatureOutput.fromNDList(out);
                for (int k = 0; k < 4; k++) {
                    float[] s = f.stages().get(k).toFloatArray();
                    float[] p = f.preActStages().get(k).toFloatArray();
                    boolean anyNegative = false;
                    for (int i = 0; i < s.length; i++) {
                        anyNegative |= p[i] < 0;
                        assertEquals(Math.max(p[i], 0f), s[i], 0f);
                    }
                    assertTrue(anyNegative, "stage " + (k + 1));
                }
                gc.backward(out.head().mul(weights).sum());
            }
            for (Pair<String, Parameter> e : net.getParameters()) {
                Parameter p = e.getValue();
                if (!p.requiresGradient()) {
                    continue;
                }
                NDArray g = p.getArray().getGradient();
                assertNotNull(g, e.getKey());
                assertTrue(g.abs().sum().getFloat() > 0, "zero gradient for " + e.getKey());
                g.close();
            }
        }
    }

    /** Eval mode at initialisation: BN is x / sqrt(1 + 1e-5); the rest computed here in Java. */
    @Test
    void stemEqualsPlainJava() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape input = new Shape(1, 3, 9, 11);
            ImageNetStem stem = new ImageNetStem(4);
            stem.initialize(m, DataType.FLOAT32, input);
            NDArray x = m.randomNormal(input);
            NDArray y = stem.forward(new ParameterStore(m, false), new NDList(x), false).head();
            // conv: (9 + 6 - 7) / 2 + 1 = 5, (11 + 6 - 7) / 2 + 1 = 6; pool: 3, 3
            assertEquals(new Shape(1, 4, 3, 3), y.getShape());
            assertEquals(stem.getOutputShapes(new Shape[] {input})[0], y.getShape());
            NDArray weight = null;
            for (Pair<String, Parameter> p : stem.getParameters()) {
                if (p.getKey().endsWith("weight")) {
                    weight = p.getValue().getArray();
                }
            }
            float[] w = weight.toFloatArray(); // (4, 3, 7, 7)
            float[] xs = x.toFloatArray();
            int h = 9;
            int wd = 11;
            int ch = 5;
            int cw = 6;
            double[] conv = new double[4 * ch * cw];
            for (int o = 0; o < 4; o++) {
                for (int i = 0; i < ch; i++) {
                    for (int j = 0; j < cw; j++) {
                        double acc = 0;
                        for (int c = 0; c < 3; c++) {
                            for (int ki = 0; ki < 7; ki++) {
                                for (int kj = 0; kj < 7; kj++) {
                                    int yi = 2 * i - 3 + ki;
                                    int xj = 2 * j - 3 + kj;
                                    if (yi >= 0 && yi < h && xj >= 0 && xj < wd) {
                                        acc +=
                                                w[((o * 3 + c) * 7 + ki) * 7 + kj]
                                                        * xs[(c * h + yi) * wd + xj];
                                    }
                                }
                            }
                        }
                        conv[(o * ch + i) * cw + j] = Math.max(0, acc / Math.sqrt(1 + 1e-5));
                    }
                }
            }
            float[] expected = new float[4 * 3 * 3];
            for (int o = 0; o < 4; o++) {
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 3; j++) {
                        double mx = Double.NEGATIVE_INFINITY;
                        for (int di = 0; di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                int yi = 2 * i - 1 + di;
                                int xj = 2 * j - 1 + dj;
                                if (yi >= 0 && yi < ch && xj >= 0 && xj < cw) {
                                    mx = Math.max(mx, conv[(o * ch + yi) * cw + xj]);
                                }
                            }
                        }
                        expected[(o * 3 + i) * 3 + j] = (float) mx;
                    }
                }
            }
            assertArrayEquals(expected, y.toFloatArray(), 1e-4f);
        }
    }

    @Test
    void initialisationFollowsTorchvision() {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create("resnet34", 1000, 3);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            List<String> checked = new ArrayList<>();
            for (Pair<String, Parameter> e : net.getParameters()) {
                Parameter p = e.getValue();
                Shape s = p.getShape();
                switch (p.getType()) {
                    case GAMMA -> assertEquals(s.size(), p.getArray().sum().getFloat(), 0f);
                    case BETA -> assertEquals(0f, p.getArray().abs().sum().getFloat(), 0f);
                    default -> {}
                }
                if (p.getType() == Parameter.Type.WEIGHT
                        && s.dimension() == 4
                        && s.size() >= 9408) {
                    double expected = Math.sqrt(2.0 / (s.get(0) * s.get(2) * s.get(3)));
                    assertEquals(expected, std(p.getArray()), 0.05 * expected, e.getKey());
                    checked.add(e.getKey());
                }
            }
            assertTrue(checked.stream().anyMatch(k -> k.contains("stem")), checked.toString());
            NDArray fc = net.classifierWeight().getArray(); // (1000, 512)
            double bound = 1 / Math.sqrt(512);
            assertTrue(fc.abs().max().getFloat() <= bound);
            assertEquals(bound / Math.sqrt(3), std(fc), 0.02 * bound);
        }
    }

    private static void checkLayout(
            CifarNetwork net, Shape input, NDList out, long[][] shapes, long classes) {
        long b = input.get(0);
        int k = net.numStages();
        assertEquals(3 + k * (net.hasPreActivation() ? 2 : 1), out.size());
        Shape[] predicted = net.getOutputShapes(new Shape[] {input});
        for (int i = 0; i < out.size(); i++) {
            assertEquals(predicted[i], out.get(i).getShape(), "getOutputShapes, output " + i);
        }
        assertEquals(new Shape(b, classes), out.get(0).getShape());
        assertEquals(new Shape(b, 512), out.get(1).getShape());
        for (int i = 0; i <= k; i++) {
            long[] s = shapes[i];
            assertEquals(new Shape(b, s[0], s[1], s[2]), out.get(2 + i).getShape(), "feature " + i);
        }
        FeatureOutput f = FeatureOutput.fromNDList(out);
        assertEquals("logits", f.logits().getName());
        assertEquals("pooled", f.pooled().getName());
        assertEquals("stem", f.stem().getName());
        assertEquals(k, f.stages().size());
        // pooled is the mean of the last stage map
        float[] last = f.stages().get(k - 1).mean(new int[] {3}).mean(new int[] {2}).toFloatArray();
        float[] pooled = f.pooled().toFloatArray();
        for (int i = 0; i < last.length; i++) {
            assertEquals(last[i], pooled[i], 1e-5f * (1 + Math.abs(last[i])));
        }
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
