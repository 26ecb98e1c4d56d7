package ai.crcd.models;

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
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Per model: parameter count, output layout and shapes, gradients reaching every parameter. */
class ModelZooTest {

    static Stream<ModelSpec> specs() {
        return ModelSpec.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void countShapesAndGradients(ModelSpec spec) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape input = new Shape(2, 3, 32, 32);
            CifarNetwork net = Models.builder(spec.name()).optPreActivation(true).build();
            net.initialize(m, DataType.FLOAT32, input);

            // trainable parameter count, BN running statistics excluded
            long count = 0;
            for (Parameter p : net.getParameters().values()) {
                boolean runningStat =
                        p.getType() == Parameter.Type.RUNNING_MEAN
                                || p.getType() == Parameter.Type.RUNNING_VAR;
                assertEquals(!runningStat, p.requiresGradient(), p.getName());
                if (!runningStat) {
                    count += p.getShape().size();
                }
            }
            assertEquals(spec.params(), count, "trainable parameters");
            assertEquals(spec.params(), net.numTrainableParameters());
            assertEquals(spec.name(), net.modelName());
            assertEquals(100, net.numClasses());
            assertEquals(spec.featureDim(), net.featureDim());
            assertEquals(spec.numStages(), net.numStages());
            assertEquals(new Shape(100, spec.featureDim()), net.classifierWeight().getShape());

            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = m.randomNormal(input);
            NDArray weights = m.randomNormal(new Shape(2, 100)); // makes the loss asymmetric
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = net.forward(ps, new NDList(x), true);
                checkLayout(spec, net, input, out, 2, 100);
                checkPreActivations(spec, FeatureOutput.fromNDList(out));
                gc.backward(out.head().mul(weights).sum());
            }
            for (Parameter p : net.getParameters().values()) {
                if (!p.requiresGradient()) {
                    continue;
                }
                NDArray g = p.getArray().getGradient();
                assertNotNull(g, p.getName());
                assertEquals(p.getShape(), g.getShape(), p.getName());
                assertTrue(g.abs().sum().getFloat() > 0, "zero gradient for " + p.getName());
                g.close();
            }

            NDList eval = net.forward(ps, new NDList(x), false);
            checkLayout(spec, net, input, eval, 2, 100);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void greyScale28x28With10Classes(ModelSpec spec) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape input = new Shape(2, 1, 28, 28);
            CifarNetwork net = Models.create(spec.name(), 10, 1);
            assertEquals(1, net.inChannels());
            net.initialize(m, DataType.FLOAT32, input);
            // 90 fewer classes and 2 fewer input channels of the first conv (1x1 in ShuffleNets)
            long stemFilters = spec.shapes()[0][0];
            long kernelArea = spec.name().startsWith("Shuffle") ? 1 : 9;
            long expected =
                    spec.params() - 90L * (spec.featureDim() + 1) - 2 * stemFilters * kernelArea;
            assertEquals(expected, net.numTrainableParameters());
            NDList out =
                    net.forward(
                            new ParameterStore(m, false), new NDList(m.randomNormal(input)), false);
            checkLayout(spec, net, input, out, 2, 10);
            // stage maps shrink as for 32x32 input, with padded (ceil) or pooled (floor) halving
            long[] stem = spec.shapes()[0];
            assertEquals(stem[0], out.get(2).getShape().get(1));
            assertEquals(stem[1] == 32 ? 28 : 14, out.get(2).getShape().get(2));
        }
    }

    /**
     * Pre-activation outputs, computed independently in Java from the stage outputs: relu(preact)
     * == stage for networks whose stages end in a ReLU; preact == stage for MobileNetV2 (linear
     * bottlenecks); for WRNs preact is the next batch norm (training mode: batch statistics, biased
     * variance, gamma 1, beta 0 at initialisation) of the stage output.
     */
    static void checkPreActivations(ModelSpec spec, FeatureOutput f) {
        for (int k = 0; k < spec.numStages(); k++) {
            NDArray stage = f.stages().get(k);
            NDArray pre = f.preActStages().get(k);
            assertEquals(stage.getShape(), pre.getShape());
            float[] s = stage.toFloatArray();
            float[] p = pre.toFloatArray();
            String what = spec.name() + " stage " + (k + 1);
            if (spec.name().startsWith("wrn")) {
                Shape sh = stage.getShape();
                int b = (int) sh.get(0);
                int c = (int) sh.get(1);
                int hw = (int) (sh.get(2) * sh.get(3));
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    double sq = 0;
                    for (int i = 0; i < b; i++) {
                        for (int j = 0; j < hw; j++) {
                            double v = s[(i * c + ch) * hw + j];
                            sum += v;
                            sq += v * v;
                        }
                    }
                    int n = b * hw;
                    double mean = sum / n;
                    double var = sq / n - mean * mean;
                    for (int i = 0; i < b; i++) {
                        for (int j = 0; j < hw; j++) {
                            int idx = (i * c + ch) * hw + j;
                            double expected = (s[idx] - mean) / Math.sqrt(var + 1e-5);
                            assertEquals(expected, p[idx], 2e-3 * (1 + Math.abs(expected)), what);
                        }
                    }
                }
            } else {
                boolean identity = spec.name().equals("MobileNetV2");
                boolean anyNegative = false;
                for (int i = 0; i < s.length; i++) {
                    anyNegative |= p[i] < 0;
                    assertEquals(identity ? p[i] : Math.max(p[i], 0f), s[i], 0f, what);
                }
                assertTrue(identity || anyNegative, what + ": preact has no negative entry");
            }
        }
    }

    /** Checks the FeatureOutput layout, names and shapes (documented and predicted). */
    static void checkLayout(
            ModelSpec spec, CifarNetwork net, Shape input, NDList out, long batch, long classes) {
        int k = spec.numStages();
        int expected = 3 + k * (net.hasPreActivation() ? 2 : 1);
        assertEquals(expected, out.size(), "outputs");
        Shape[] predicted = net.getOutputShapes(new Shape[] {input});
        assertEquals(out.size(), predicted.length);
        for (int i = 0; i < out.size(); i++) {
            assertEquals(predicted[i], out.get(i).getShape(), "getOutputShapes, output " + i);
        }
        assertEquals(new Shape(batch, classes), out.get(0).getShape());
        assertEquals(new Shape(batch, spec.featureDim()), out.get(1).getShape());
        if (input.get(2) == 32) {
            for (int i = 0; i <= k; i++) {
                long[] s = spec.shapes()[i];
                assertEquals(
                        new Shape(batch, s[0], s[1], s[2]),
                        out.get(2 + i).getShape(),
                        "feature " + i);
            }
        }
        FeatureOutput f = FeatureOutput.fromNDList(out);
        assertEquals("logits", f.logits().getName());
        assertEquals("pooled", f.pooled().getName());
        assertEquals("stem", f.stem().getName());
        assertEquals(k, f.stages().size());
        assertEquals(net.hasPreActivation() ? k : 0, f.preActStages().size());
        for (int i = 0; i < k; i++) {
            assertEquals("stage" + (i + 1), f.stages().get(i).getName());
        }
    }
}
