package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Plain-Java feature maps for the zoo's tests: random (B, C, H, W) values kept as doubles, their
 * NDArrays, FeatureOutputs and setups built from them, the reference computations the methods share
 * (PyTorch's adaptive average pooling, RepDistiller's height matching, l2 normalisation) in plain
 * loops, a central finite-difference check; random plain inputs, batches from pooled features and
 * stages, parameter access by name and a finite-difference check of a loss written in doubles.
 */
final class ZooFixture {

    /** Logit count of the fixtures' outputs. */
    static final int CLASSES = 3;

    private ZooFixture() {}

    /** A (B, C, H, W) map as plain doubles. */
    static final class Map4 {
        final double[][][][] v;

        Map4(double[][][][] v) {
            this.v = v;
        }

        static Map4 random(Random r, int b, int c, int h, int w) {
            double[][][][] v = new double[b][c][h][w];
            for (double[][][] x : v) {
                for (double[][] y : x) {
                    for (double[] z : y) {
                        for (int i = 0; i < z.length; i++) {
                            z[i] = r.nextGaussian();
                        }
                    }
                }
            }
            return new Map4(v);
        }

        int b() {
            return v.length;
        }

        int c() {
            return v[0].length;
        }

        int h() {
            return v[0][0].length;
        }

        int w() {
            return v[0][0][0].length;
        }

        Shape shape() {
            return new Shape(b(), c(), h(), w());
        }

        double[] flat() {
            double[] out = new double[b() * c() * h() * w()];
            int k = 0;
            for (double[][][] x : v) {
                for (double[][] y : x) {
                    for (double[] z : y) {
                        for (double d : z) {
                            out[k++] = d;
                        }
                    }
                }
            }
            return out;
        }

        static Map4 of(double[] flat, Shape s) {
            int b = (int) s.get(0);
            int c = (int) s.get(1);
            int h = (int) s.get(2);
            int w = (int) s.get(3);
            double[][][][] v = new double[b][c][h][w];
            int k = 0;
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < c; j++) {
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            v[i][j][y][x] = flat[k++];
                        }
                    }
                }
            }
            return new Map4(v);
        }

        NDArray array(NDManager m, DataType type) {
            return m.create(flat(), shape()).toType(type, false);
        }
    }

    /** Random maps of the given per-sample shapes (C, H, W) for batch b. */
    static List<Map4> randomMaps(Random r, int b, int[]... chw) {
        List<Map4> out = new ArrayList<>();
        for (int[] s : chw) {
            out.add(Map4.random(r, b, s[0], s[1], s[2]));
        }
        return out;
    }

    /** A network output with random logits, a pooled vector, a stem and the given stages. */
    static FeatureOutput output(NDManager m, Map4 stem, List<NDArray> stages, long seed) {
        Random r = new Random(seed);
        int b = stages.isEmpty() ? stem.b() : (int) stages.get(0).getShape().get(0);
        DataType type = stages.isEmpty() ? DataType.FLOAT64 : stages.get(0).getDataType();
        double[] logits = new double[b * CLASSES];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = r.nextGaussian();
        }
        NDArray l = m.create(logits, new Shape(b, CLASSES)).toType(type, false);
        NDArray pooled = m.zeros(new Shape(b, 4), type);
        return FeatureOutput.of(
                l, pooled, stem == null ? null : stem.array(m, type), stages, List.of());
    }

    static List<NDArray> arrays(NDManager m, List<Map4> maps, DataType type) {
        List<NDArray> out = new ArrayList<>();
        for (Map4 x : maps) {
            out.add(x.array(m, type));
        }
        return out;
    }

    static DistillBatch batch(NDManager m, FeatureOutput teacher, FeatureOutput student) {
        long b = student.logits().getShape().get(0);
        return DistillBatch.builder()
                .setTeacher(teacher)
                .setStudent(student)
                .setLabels(m.zeros(new Shape(b), DataType.INT64))
                .setParameterStore(new ParameterStore(m, false))
                .build();
    }

    /**
     * Output shapes as a crcd network reports them ({@code [logits, pooled, stem, stages]}, batch
     * 1) from per-sample (C, H, W) triples, the first being the stem.
     */
    static List<Shape> outputShapes(int pooledDim, int[]... chw) {
        List<Shape> out = new ArrayList<>();
        out.add(new Shape(1, CLASSES));
        out.add(new Shape(1, pooledDim));
        for (int[] s : chw) {
            out.add(new Shape(1, s[0], s[1], s[2]));
        }
        return out;
    }

    static DistillSetup setup(List<Shape> teacher, List<Shape> student, DataType type) {
        return DistillSetup.builder()
                .setFeatureDims(4, 4)
                .setNumClasses(CLASSES)
                .optOutputShapes(teacher, student)
                .optDataType(type)
                .build();
    }

    static double value(LossTerms terms, String name) {
        return terms.asMap().get(name).toType(DataType.FLOAT64, false).getDouble();
    }

    // ---- plain-Java references -------------------------------------------------------------

    /** PyTorch's adaptive_avg_pool2d: bin i covers [floor(i in / out), ceil((i + 1) in / out)). */
    static Map4 adaptivePool(Map4 x, int oh, int ow) {
        double[][][][] out = new double[x.b()][x.c()][oh][ow];
        for (int b = 0; b < x.b(); b++) {
            for (int c = 0; c < x.c(); c++) {
                for (int i = 0; i < oh; i++) {
                    int h0 = (int) Math.floor((double) i * x.h() / oh);
                    int h1 = (int) Math.ceil((double) (i + 1) * x.h() / oh);
                    for (int j = 0; j < ow; j++) {
                        int w0 = (int) Math.floor((double) j * x.w() / ow);
                        int w1 = (int) Math.ceil((double) (j + 1) * x.w() / ow);
                        double s = 0;
                        for (int y = h0; y < h1; y++) {
                            for (int z = w0; z < w1; z++) {
                                s += x.v[b][c][y][z];
                            }
                        }
                        out[b][c][i][j] = s / ((h1 - h0) * (w1 - w0));
                    }
                }
            }
        }
        return new Map4(out);
    }

    /** RepDistiller's AT/NST rule: pool the taller map to a square of the other's height. */
    static Map4[] matchHeights(Map4 s, Map4 t) {
        if (s.h() > t.h()) {
            return new Map4[] {adaptivePool(s, t.h(), t.h()), t};
        }
        if (s.h() < t.h()) {
            return new Map4[] {s, adaptivePool(t, s.h(), s.h())};
        }
        return new Map4[] {s, t};
    }

    /** {@code x / max(||x||, 1e-12)} of one row, in place. */
    static double[] normalize(double[] x) {
        double n = 0;
        for (double d : x) {
            n += d * d;
        }
        n = Math.max(Math.sqrt(n), 1e-12);
        for (int i = 0; i < x.length; i++) {
            x[i] /= n;
        }
        return x;
    }

    // ---- finite differences ----------------------------------------------------------------

    /**
     * Checks the gradient of {@code loss} with respect to each input array (float64) against
     * central differences with step 1e-6; each entry to {@code tol} relative to itself, floored at
     * 1 % of the largest entry.
     *
     * @param m the manager
     * @param inputs the inputs, float64; copied, not modified
     * @param loss builds the scalar loss from the inputs (called inside and outside a collector)
     * @param tol the relative tolerance
     */
    static void checkGradient(
            NDManager m, List<NDArray> inputs, Function<List<NDArray>, NDArray> loss, double tol) {
        List<NDArray> leaves = new ArrayList<>();
        for (NDArray x : inputs) {
            NDArray c = x.duplicate();
            c.setRequiresGradient(true);
            leaves.add(c);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss.apply(leaves));
        }
        double h = 1e-6;
        List<double[]> autos = new ArrayList<>();
        List<double[]> fds = new ArrayList<>();
        double largest = 0;
        for (int a = 0; a < inputs.size(); a++) {
            autos.add(leaves.get(a).getGradient().toDoubleArray());
            double[] base = inputs.get(a).toDoubleArray();
            Shape shape = inputs.get(a).getShape();
            double[] fd = new double[base.length];
            for (int k = 0; k < base.length; k++) {
                double[] plus = base.clone();
                double[] minus = base.clone();
                plus[k] += h;
                minus[k] -= h;
                double lp = eval(m, inputs, a, m.create(plus, shape), loss);
                double lm = eval(m, inputs, a, m.create(minus, shape), loss);
                fd[k] = (lp - lm) / (2 * h);
                largest = Math.max(largest, Math.abs(fd[k]));
            }
            fds.add(fd);
        }
        if (!(largest > 0)) {
            throw new AssertionError("every finite difference is 0: the check proves nothing");
        }
        for (int a = 0; a < inputs.size(); a++) {
            double[] fd = fds.get(a);
            for (int k = 0; k < fd.length; k++) {
                // relative to the entry, floored at 1 % of the largest gradient entry
                double scale = Math.max(Math.abs(fd[k]), 0.01 * largest);
                assertEquals(fd[k], autos.get(a)[k], tol * scale, "input " + a + " entry " + k);
            }
        }
    }

    private static double eval(
            NDManager m,
            List<NDArray> inputs,
            int replaced,
            NDArray with,
            Function<List<NDArray>, NDArray> loss) {
        List<NDArray> in = new ArrayList<>(inputs);
        in.set(replaced, with);
        return loss.apply(in).toType(DataType.FLOAT64, false).getDouble();
    }

    // ---- plain inputs, parameters and gradients of a loss in doubles ---------------------

    static double[] gaussian(Random r, int n, double scale) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = scale * r.nextGaussian();
        }
        return a;
    }

    static double[][] rows(double[] flat, int rows) {
        int cols = flat.length / rows;
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(flat, i * cols, a[i], 0, cols);
        }
        return a;
    }

    /** An array of the given type holding the values. */
    static NDArray array(NDManager m, double[] values, Shape shape, DataType type) {
        return m.create(values, shape).toType(type, false);
    }

    /** A batch with logits (B, 3) from a fixed seed, the given pooled features and stages. */
    static DistillBatch batch(
            NDManager m,
            NDArray studentPooled,
            NDArray teacherPooled,
            List<NDArray> studentStages,
            List<NDArray> teacherStages) {
        long b = studentPooled.getShape().get(0);
        Random r = new Random(99);
        DataType type = studentPooled.getDataType();
        NDArray ls = array(m, gaussian(r, (int) b * 3, 1), new Shape(b, 3), type);
        NDArray lt = array(m, gaussian(r, (int) b * 3, 1), new Shape(b, 3), type);
        FeatureOutput s = FeatureOutput.of(ls, studentPooled, null, studentStages, List.of());
        FeatureOutput t = FeatureOutput.of(lt, teacherPooled, null, teacherStages, List.of());
        return DistillBatch.builder()
                .setStudent(s)
                .setTeacher(t)
                .setLabels(m.create(new long[(int) b]))
                .setIndices(m.create(new long[(int) b]))
                .setParameterStore(new ParameterStore(m, false))
                .build();
    }

    /** The parameter whose path, without DJL's two-digit child numbers, is {@code key}. */
    static Parameter param(Block block, String key) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getKey().replaceAll("(^|_)\\d\\d", "$1").equals(key)) {
                return p.getValue();
            }
        }
        throw new AssertionError("no parameter " + key + " in " + block.getParameters().keys());
    }

    /** Overwrites the values of a float32 or float64 array (e.g. a parameter) in place. */
    static void setValues(NDArray a, double[] values) {
        if (a.getDataType() == DataType.FLOAT64) {
            a.set(values);
        } else {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            a.set(f);
        }
    }

    static double[] values(NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    /**
     * Checks every entry of {@code grad} against the central difference of {@code f} in {@code x}.
     */
    static void assertGradient(
            String what, double[] x, double[] grad, ToDoubleFunction<double[]> f, double tol) {
        assertEquals(x.length, grad.length, what + ": gradient size");
        double h = 1e-6;
        double maxAbs = 0;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = f.applyAsDouble(x);
            x[i] = keep - h;
            double down = f.applyAsDouble(x);
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            maxAbs = Math.max(maxAbs, Math.abs(fd));
            assertEquals(fd, grad[i], tol * Math.max(1, Math.abs(fd)), what + "[" + i + "]");
        }
        if (maxAbs < 1e-4) {
            throw new AssertionError(what + ": gradient too small to test: " + maxAbs);
        }
    }
}
