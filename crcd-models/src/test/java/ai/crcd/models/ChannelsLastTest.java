package ai.crcd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.FeatureOutput;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Channels-last order on the CPU ({@link ChannelsLast}): the convolution weights are held in it
 * after {@code initialize} and after {@code loadParameters}, with their values; every network
 * computes the same function, outputs and gradients as accurately as without it; float64 is left
 * alone.
 */
class ChannelsLastTest {

    static List<String> names() {
        return Models.names();
    }

    /**
     * Whether an array is stored in its default (row-major) order: DJL hands out the array's own
     * memory as a direct buffer only then (otherwise a contiguous copy), so a write through the
     * buffer shows in the array exactly when it is. The value is restored.
     */
    private static boolean defaultOrder(NDArray a) {
        boolean f64 = a.getDataType() == DataType.FLOAT64;
        double before = f64 ? a.getDouble(0, 0, 0, 0) : a.getFloat(0, 0, 0, 0);
        ByteBuffer bb = a.toByteBuffer(true);
        if (f64) {
            bb.putDouble(0, before + 1);
        } else {
            bb.putFloat(0, (float) before + 1f);
        }
        double after = f64 ? a.getDouble(0, 0, 0, 0) : a.getFloat(0, 0, 0, 0);
        boolean shared = after != before;
        if (shared) {
            if (f64) {
                bb.putDouble(0, before);
            } else {
                bb.putFloat(0, (float) before);
            }
        }
        return shared;
    }

    /** Kernels where the two orders differ (a 1x1 or single-input-channel kernel is both). */
    private static boolean ordersDiffer(NDArray w) {
        Shape s = w.getShape();
        return s.dimension() == 4 && s.get(1) > 1 && s.get(2) * s.get(3) > 1;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"resnet20", "wrn_16_2", "vgg8", "MobileNetV2", "resnet8x4", "ResNet50"})
    void weightsAreChannelsLastAfterInitializeAndAfterLoad(String name)
            throws IOException, MalformedModelException {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create(name);
            net.initialize(m, DataType.FLOAT32, ReleaseIntermediatesTest.INPUT);
            CifarNetwork loaded = Models.create(name);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            net.saveParameters(new DataOutputStream(bytes));
            loaded.loadParameters(
                    m, new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            int checked = 0;
            for (CifarNetwork n : List.of(net, loaded)) {
                for (Pair<String, Parameter> p : n.getParameters()) {
                    NDArray w = p.getValue().getArray();
                    if (ordersDiffer(w)) {
                        assertFalse(defaultOrder(w), name + " " + p.getKey() + " in NCHW order");
                        checked++;
                    }
                }
            }
            assertTrue(checked >= 2, name + ": no convolution weight checked"); // both networks
            for (int i = 0; i < net.getParameters().size(); i++) {
                Parameter a = net.getParameters().get(i).getValue();
                Parameter b = loaded.getParameters().get(i).getValue();
                assertArrayEquals(a.getArray().toFloatArray(), b.getArray().toFloatArray());
                // trainable weights are still leaves with gradients (set by initialize)
                assertEquals(a.requiresGradient(), a.getArray().hasGradient(), a.getName());
            }
        }
    }

    /**
     * Same parameters and inputs in a float32 channels-last network and a float64 one (the
     * reference; channels-last never applies to float64), in evaluation mode (batch statistics of 2
     * images are too ill-conditioned to compare types; {@link #layersInChannelsLastMatchFloat64}
     * checks training-mode batch norm): every output within 1e-4 of the largest entry of its array,
     * and the gradients of all parameters of {@code sum(logits * w) + mean(stage2^2)} together
     * within 1e-2 in relative L2 norm. Measured on every model: outputs at most 3e-6 (default order
     * 2e-6), gradients usually below 1e-6 in either order; now and then a pre-activation within
     * float32 rounding of zero takes the other side of a ReLU than in float64, in either order, and
     * moves the gradients of the layers before it by up to 4e-4. A wrong layout or a dropped
     * gradient is of order 1.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void channelsLastNetworksMatchFloat64(String name) {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork cl = Models.builder(name).optPreActivation(true).build();
            cl.initialize(m, DataType.FLOAT32, ReleaseIntermediatesTest.INPUT);
            CifarNetwork ref = Models.builder(name).optPreActivation(true).build();
            ref.initialize(m, DataType.FLOAT64, ReleaseIntermediatesTest.INPUT);
            copyParameters(cl, ref);
            float[] x = m.randomNormal(ReleaseIntermediatesTest.INPUT).toFloatArray();
            float[] w = m.randomNormal(new Shape(2, 100)).toFloatArray();
            Run clRun = run(m, cl, x, w, DataType.FLOAT32);
            Run refRun = run(m, ref, x, w, DataType.FLOAT64);

            assertEquals(refRun.outputs().size(), clRun.outputs().size());
            for (int i = 0; i < refRun.outputs().size(); i++) {
                double err = maxError(clRun.outputs().get(i), refRun.outputs().get(i));
                assertTrue(err <= 1e-4, name + " output " + i + ": relative error " + err);
            }
            double diff = 0;
            double norm = 0;
            assertEquals(refRun.gradients().size(), clRun.gradients().size());
            for (int i = 0; i < refRun.gradients().size(); i++) {
                double[] r = refRun.gradients().get(i);
                double[] c = clRun.gradients().get(i);
                for (int j = 0; j < r.length; j++) {
                    diff += (c[j] - r[j]) * (c[j] - r[j]);
                    norm += r[j] * r[j];
                }
            }
            assertTrue(norm > 0, name + ": zero gradients");
            double l2 = Math.sqrt(diff / norm);
            assertTrue(l2 <= 1e-2, name + ": gradients' relative L2 error " + l2);
        }
    }

    /**
     * The layers channels-last order runs through, alone, in float32 against float64: convolution
     * (3x3 stride 1 and 2, 1x1, grouped, depthwise) output, input and weight gradients within 1e-5
     * of the largest entry; batch norm (training and evaluation) output, input and gamma gradients
     * within 1e-4 (libtorch's channels-last batch norm accumulates in float32: up to 3e-5 measured,
     * 10-30 times the default order's error, on inputs of mean 10).
     */
    @Test
    void layersInChannelsLastMatchFloat64() {
        try (NDManager m = NDManager.newBaseManager()) {
            // {in channels, out channels, kernel, stride, groups, batch, size}
            int[][] convs = {
                {16, 16, 3, 1, 1, 8, 16},
                {16, 32, 3, 2, 1, 8, 16},
                {32, 64, 1, 1, 1, 8, 8},
                {32, 64, 3, 1, 4, 8, 8},
                {32, 32, 3, 1, 32, 8, 8}
            };
            for (int[] c : convs) {
                Shape xs = new Shape(c[5], c[0], c[6], c[6]);
                Shape ws = new Shape(c[1], c[0] / c[4], c[2], c[2]);
                float[] xv = m.randomNormal(xs).toFloatArray();
                float[] wv = m.randomNormal(ws).toFloatArray();
                List<double[]> ref = conv(m, xv, xs, wv, ws, c, DataType.FLOAT64);
                List<double[]> got = conv(m, xv, xs, wv, ws, c, DataType.FLOAT32);
                for (int i = 0; i < ref.size(); i++) {
                    double err = maxError(got.get(i), ref.get(i));
                    assertTrue(err <= 1e-5, java.util.Arrays.toString(c) + " " + i + ": " + err);
                }
            }
            for (boolean training : new boolean[] {true, false}) {
                Shape xs = new Shape(16, 16, 16, 16);
                float[] xv = m.randomNormal(10f, 1f, xs, DataType.FLOAT32).toFloatArray();
                List<double[]> ref = batchNorm(m, xv, xs, training, DataType.FLOAT64);
                List<double[]> got = batchNorm(m, xv, xs, training, DataType.FLOAT32);
                for (int i = 0; i < ref.size(); i++) {
                    double err = maxError(got.get(i), ref.get(i));
                    assertTrue(
                            err <= 1e-4, "batch norm training=" + training + " " + i + ": " + err);
                }
            }
        }
    }

    /** [y, dx, dw] of sum(conv(x, w) * r), channels-last for float32. */
    private static List<double[]> conv(
            NDManager m, float[] xv, Shape xs, float[] wv, Shape ws, int[] c, DataType type) {
        try (NDManager sub = m.newSubManager()) {
            NDArray x = sub.create(xv, xs).toType(type, false);
            NDArray w = sub.create(wv, ws).toType(type, false);
            if (type == DataType.FLOAT32) {
                x = ChannelsLast.of(new NDList(x)).head();
                w = ChannelsLast.of(new NDList(w)).head();
            }
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            int pad = c[2] / 2;
            NDArray y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                y =
                        Conv2d.conv2d(
                                        x,
                                        w,
                                        null,
                                        new Shape(c[3], c[3]),
                                        new Shape(pad, pad),
                                        new Shape(1, 1),
                                        c[4])
                                .head();
                // a fixed weighting, the same in both types
                NDArray v = sub.arange(0f, (float) y.size()).reshape(y.getShape()).mul(0.37).sin();
                gc.backward(y.mul(v.toType(type, false)).sum());
            }
            return List.of(f64(y), f64(x.getGradient()), f64(w.getGradient()));
        }
    }

    /** [y, dx, dgamma] of sum(bn(x) * v) with a fixed v, channels-last for float32. */
    private static List<double[]> batchNorm(
            NDManager m, float[] xv, Shape xs, boolean training, DataType type) {
        try (NDManager sub = m.newSubManager()) {
            long ch = xs.get(1);
            NDArray x = sub.create(xv, xs).toType(type, false);
            if (type == DataType.FLOAT32) {
                x = ChannelsLast.of(new NDList(x)).head();
            }
            NDArray gamma = sub.linspace(0.5f, 2f, (int) ch).toType(type, false);
            NDArray beta = sub.linspace(-1f, 1f, (int) ch).toType(type, false);
            NDArray mean = sub.full(new Shape(ch), 10f).toType(type, false);
            NDArray var = sub.linspace(0.5f, 1.5f, (int) ch).toType(type, false);
            NDArray v = sub.arange(0f, (float) xs.size()).reshape(xs).mul(0.37).sin();
            x.setRequiresGradient(true);
            gamma.setRequiresGradient(true);
            NDArray y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                y = BatchNorm.batchNorm(x, mean, var, gamma, beta, 1, 0.9f, 1e-5f, training).head();
                gc.backward(y.mul(v.toType(type, false)).sum());
            }
            return List.of(f64(y), f64(x.getGradient()), f64(gamma.getGradient()));
        }
    }

    private static double[] f64(NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @Test
    void float64StaysInTheDefaultOrder() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList in =
                    new NDList(
                            m.randomNormal(new Shape(2, 3, 8, 8)).toType(DataType.FLOAT64, false));
            assertSame(in, ChannelsLast.of(in));
            CifarNetwork net = Models.create("resnet8");
            net.initialize(m, DataType.FLOAT64, ReleaseIntermediatesTest.INPUT);
            int checked = 0;
            for (Parameter p : net.getParameters().values()) {
                if (ordersDiffer(p.getArray())) {
                    assertTrue(defaultOrder(p.getArray()), p.getName());
                    checked++;
                }
            }
            assertTrue(checked > 0);
            NDList f32 = new NDList(m.randomNormal(new Shape(2, 3, 8, 8)));
            NDArray converted = ChannelsLast.of(f32).head();
            assertTrue(defaultOrder(f32.head()));
            assertFalse(defaultOrder(converted));
            assertArrayEquals(f32.head().toFloatArray(), converted.toFloatArray());
        }
    }

    /** Copies every parameter value (and running statistic), converting the type. */
    private static void copyParameters(CifarNetwork from, CifarNetwork to) {
        for (int i = 0; i < from.getParameters().size(); i++) {
            NDArray src = from.getParameters().get(i).getValue().getArray();
            NDArray dst = to.getParameters().get(i).getValue().getArray();
            try (NDArray c = src.toType(dst.getDataType(), true)) {
                dst.set(new NDIndex("..."), c);
            }
        }
    }

    /** Outputs (evaluation, then training mode) and parameter gradients of one network. */
    private record Run(List<double[]> outputs, List<double[]> gradients) {}

    /**
     * Evaluation-mode outputs and the gradient of every trainable parameter after backward of
     * {@code sum(logits * w) + mean(stage2^2)} through the evaluation-mode forward.
     */
    private static Run run(NDManager m, CifarNetwork net, float[] x, float[] w, DataType type) {
        List<double[]> outputs = new ArrayList<>();
        List<double[]> gradients = new ArrayList<>();
        try (NDManager sub = m.newSubManager()) {
            ParameterStore ps = new ParameterStore(sub, false);
            NDArray input = sub.create(x, ReleaseIntermediatesTest.INPUT).toType(type, false);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = net.forward(ps, new NDList(input), false);
                for (NDArray a : out) {
                    outputs.add(f64(a));
                }
                FeatureOutput f = FeatureOutput.fromNDList(out);
                NDArray weights = sub.create(w, new Shape(2, 100)).toType(type, false); // (B, C)
                NDArray stage2 = f.stages().get(1); // (B, C2, H2, W2)
                gc.backward(f.logits().mul(weights).sum().add(stage2.square().mean()));
            }
            for (Parameter p : net.getParameters().values()) {
                if (p.requiresGradient()) {
                    try (NDArray g = p.getArray().getGradient()) {
                        gradients.add(f64(g));
                    }
                }
            }
        }
        return new Run(outputs, gradients);
    }

    /** max |a - ref| / max(max |ref|, 1e-3). */
    private static double maxError(double[] a, double[] ref) {
        assertEquals(ref.length, a.length);
        double scale = 1e-3;
        double err = 0;
        for (int i = 0; i < ref.length; i++) {
            scale = Math.max(scale, Math.abs(ref[i]));
            err = Math.max(err, Math.abs(a[i] - ref[i]));
        }
        return err / scale;
    }
}
