package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.train.optim.MultiStepSchedule;
import ai.crcd.train.optim.PyTorchSgd;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The optimiser against plain double arithmetic, and the schedule at epoch boundaries. */
class PyTorchSgdTest {

    @Test
    void lrChangesExactlyAtTheMilestones() {
        MultiStepSchedule s = new MultiStepSchedule(0.05, List.of(150, 180, 210), 0.1);
        // epochs are indexed from 0: index 149 is the 150th epoch, the last at the base lr
        assertEquals(0.05, s.lr(0), 1e-15);
        assertEquals(0.05, s.lr(149), 1e-15);
        assertEquals(0.005, s.lr(150), 1e-15);
        assertEquals(0.005, s.lr(179), 1e-15);
        assertEquals(0.0005, s.lr(180), 1e-15);
        assertEquals(0.0005, s.lr(209), 1e-15);
        assertEquals(0.00005, s.lr(210), 1e-15);
        assertEquals(0.00005, s.lr(239), 1e-15);
        PyTorchSgd opt = PyTorchSgd.builder().setSchedule(s).build();
        for (int e : new int[] {0, 149, 150, 179, 180, 209, 210, 239}) {
            opt.setEpoch(e);
            assertEquals((float) s.lr(e), opt.lr(), 0f);
        }
    }

    @Test
    void updatesEqualTorchSgdByHand() {
        double lr0 = 0.1;
        double m = 0.9;
        double wd = 0.01;
        double[] w = {1.0, -2.0, 0.5};
        double[][] grads = {{0.3, -0.1, 0.2}, {-0.4, 0.25, 0.05}, {0.1, 0.1, -0.3}};
        // lr drops x0.5 after the second step (epoch 1 -> milestone at epoch 2)
        double[] lrs = {lr0, lr0, lr0 * 0.5};
        PyTorchSgd opt =
                PyTorchSgd.builder()
                        .setSchedule(new MultiStepSchedule(lr0, List.of(2), 0.5))
                        .optMomentum(m)
                        .optWeightDecay(wd)
                        .build();
        double[] v = new double[3];
        try (NDManager mgr = NDManager.newBaseManager()) {
            NDArray weight = mgr.create(toFloat(w));
            for (int step = 0; step < 3; step++) {
                opt.setEpoch(step);
                try (NDArray g = mgr.create(toFloat(grads[step]))) {
                    opt.update("p", weight, g);
                }
                for (int i = 0; i < 3; i++) {
                    double d = grads[step][i] + wd * w[i];
                    v[i] = step == 0 ? d : m * v[i] + d; // torch: buf = d on the first step
                    w[i] -= lrs[step] * v[i];
                }
                assertArrayEquals(toFloat(w), weight.toFloatArray(), 1e-6f, "step " + step);
                assertArrayEquals(toFloat(v), opt.momentum().get("p").toFloatArray(), 1e-6f);
            }
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
