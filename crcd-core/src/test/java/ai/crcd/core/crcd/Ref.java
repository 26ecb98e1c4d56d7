package ai.crcd.core.crcd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;

/** Plain-Java double helpers for independent reference computations in tests. */
final class Ref {

    private Ref() {}

    static double[][] random(Random r, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = r.nextGaussian();
            }
        }
        return m;
    }

    static double[] unit(double[] v) {
        double n = 0;
        for (double x : v) {
            n += x * x;
        }
        n = Math.sqrt(n);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] / n;
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** x (n) times w (n, m) stored as (in, out). */
    static double[] vecMat(double[] x, double[][] w) {
        double[] out = new double[w[0].length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < out.length; j++) {
                out[j] += x[i] * w[i][j];
            }
        }
        return out;
    }

    static float[] flat(double[][] m) {
        float[] out = new float[m.length * m[0].length];
        int k = 0;
        for (double[] row : m) {
            for (double x : row) {
                out[k++] = (float) x;
            }
        }
        return out;
    }

    static NDArray nd(NDManager m, double[][] a) {
        return m.create(flat(a), new ai.djl.ndarray.types.Shape(a.length, a[0].length));
    }

    static NDArray nd(NDManager m, double[][][] a) {
        int p = a.length;
        int q = a[0].length;
        int c = a[0][0].length;
        float[] out = new float[p * q * c];
        int k = 0;
        for (double[][] x : a) {
            for (double[] y : x) {
                for (double z : y) {
                    out[k++] = (float) z;
                }
            }
        }
        return m.create(out, new ai.djl.ndarray.types.Shape(p, q, c));
    }

    static double[][] toDouble2(NDArray a) {
        float[] f = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        int rows = (int) a.getShape().get(0);
        int cols = (int) (a.getShape().size() / rows);
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = f[i * cols + j];
            }
        }
        return m;
    }
}
