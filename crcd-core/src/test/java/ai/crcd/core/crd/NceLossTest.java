package ai.crcd.core.crd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class NceLossTest {

    /** RepDistiller's ContrastLoss in plain double arithmetic. */
    static double plainNce(double[][] logits, double z, long nData) {
        int b = logits.length;
        int k = logits[0].length - 1;
        double kpn = k / (double) nData;
        double sum = 0;
        for (double[] row : logits) {
            double pPos = Math.exp(row[0]) / z;
            sum += Math.log(pPos / (pPos + kpn + 1e-7));
            for (int j = 1; j <= k; j++) {
                double pNeg = Math.exp(row[j]) / z;
                sum += Math.log(kpn / (pNeg + kpn + 1e-7));
            }
        }
        return -sum / b;
    }

    static double plainZ(double[][] logits, long nData) {
        double s = 0;
        int count = 0;
        for (double[] row : logits) {
            for (double l : row) {
                s += Math.exp(l);
                count++;
            }
        }
        return s / count * nData;
    }

    @Test
    void tinyCaseMatchesPlainFormula() {
        double[][] logits = {{3.0, -1.0, 0.5, 2.0}, {-2.5, 1.5, 0.0, -0.7}}; // B=2, K=3
        long nData = 10;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray l = m.create(flat(logits), new Shape(2, 4));
            double z = plainZ(logits, nData);
            assertEquals(z, NceLoss.normaliser(l, nData), 1e-5 * z);
            double expected = plainNce(logits, z, nData);
            assertEquals(expected, NceLoss.compute(l, z, nData).getFloat(), 1e-5);
            // another Z (as on a later batch) gives the formula with that Z
            assertEquals(
                    plainNce(logits, 7.25, nData),
                    NceLoss.compute(l, 7.25, nData).getFloat(),
                    1e-5);
        }
    }

    static float[] flat(double[][] a) {
        float[] out = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                out[i * a[i].length + j] = (float) a[i][j];
            }
        }
        return out;
    }
}
