package ai.crcd.core.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * Fixtures shared by the zoo tests: random inputs, batches, parameter access, finite differences.
 */
final class ZooTests {

    private ZooTests() {}

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
