package ai.crcd.core.crd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.crcd.core.kd.KdLoss;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CrdDistillerTest {

    static final int DS = 6;
    static final int DT = 5;
    static final int F = 4;
    static final int C = 3;
    static final int N = 12;
    static final double TAU = 0.07;

    static int[] labels() {
        int[] l = new int[N];
        for (int i = 0; i < N; i++) {
            l[i] = i % C;
        }
        return l;
    }

    static DistillSetup setup(long seed) {
        return DistillSetup.builder()
                .setFeatureDims(DT, DS)
                .setNumClasses(C)
                .optDatasetLabels(labels())
                .optSeed(seed)
                .build();
    }

    static CrdDistiller crd(int k, CrdDistiller.Memory memory) {
        return CrdDistiller.builder().optFeatDim(F).optNegatives(k).optMemory(memory).build();
    }

    /** Inputs of one step, kept as plain Java values for the expected results. */
    static final class Step {
        final float[][] fs;
        final float[][] ft;
        final float[][] ls;
        final float[][] lt;
        final long[] idx;

        Step(long seed, long... idx) {
            Random r = new Random(seed);
            this.idx = idx;
            fs = rand(r, idx.length, DS);
            ft = rand(r, idx.length, DT);
            ls = rand(r, idx.length, C);
            lt = rand(r, idx.length, C);
        }

        DistillBatch batch(NDManager m, boolean training) {
            return batch(m, training, m.create(fs), m.create(ft));
        }

        DistillBatch batch(
                NDManager m, boolean training, NDArray studentPooled, NDArray teacherPooled) {
            FeatureOutput s =
                    FeatureOutput.of(m.create(ls), studentPooled, null, List.of(), List.of());
            FeatureOutput t =
                    FeatureOutput.of(m.create(lt), teacherPooled, null, List.of(), List.of());
            return DistillBatch.builder()
                    .setStudent(s)
                    .setTeacher(t)
                    .setLabels(m.create(new long[idx.length]))
                    .setIndices(m.create(idx))
                    .setParameterStore(new ParameterStore(m, false))
                    .optTraining(training)
                    .build();
        }
    }

    static float[][] rand(Random r, int rows, int cols) {
        float[][] a = new float[rows][cols];
        for (float[] row : a) {
            for (int j = 0; j < cols; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        return a;
    }

    static float[] param(Block block, String side, String kind) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getKey().contains(side) && p.getKey().endsWith(kind)) {
                return p.getValue().getArray().toFloatArray();
            }
        }
        throw new AssertionError(
                "no parameter " + side + " " + kind + " in " + block.getParameters().keys());
    }

    /** normalise(W f + b) in double, W (F, d) row-major. */
    static double[][] plainEmbed(Block block, String side, float[][] f) {
        double[][] d = new double[f.length][];
        for (int i = 0; i < f.length; i++) {
            d[i] = new double[f[i].length];
            for (int j = 0; j < f[i].length; j++) {
                d[i][j] = f[i][j];
            }
        }
        return plainEmbed(block, side, d);
    }

    static double[][] plainEmbed(Block block, String side, double[][] f) {
        float[] w = param(block, side, "weight");
        float[] bias = param(block, side, "bias");
        int d = f[0].length;
        double[][] v = new double[f.length][F];
        for (int i = 0; i < f.length; i++) {
            for (int o = 0; o < F; o++) {
                double s = bias[o];
                for (int j = 0; j < d; j++) {
                    s += w[o * d + j] * f[i][j];
                }
                v[i][o] = s;
            }
            v[i] = normalise(v[i]);
        }
        return v;
    }

    static double[] normalise(double[] x) {
        double n = 0;
        for (double e : x) {
            n += e * e;
        }
        n = Math.sqrt(n);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] / n;
        }
        return out;
    }

    /** Logits (B, K+1): mem[contrast[b][j]] . v[b] / tau. */
    static double[][] plainLogits(float[] mem, double[][] v, long[] contrast, int k) {
        double[][] out = new double[v.length][k + 1];
        for (int b = 0; b < v.length; b++) {
            for (int j = 0; j <= k; j++) {
                int row = (int) contrast[b * (k + 1) + j];
                double s = 0;
                for (int o = 0; o < F; o++) {
                    s += mem[row * F + o] * v[b][o];
                }
                out[b][j] = s / TAU;
            }
        }
        return out;
    }

    @Test
    void crdLossMatchesPlainJavaAndZIsSetOnceFromTheFirstBatch() {
        for (boolean dense : new boolean[] {true, false}) {
            try (NDManager base = NDManager.newBaseManager();
                    CrdDistiller d = crd(3, CrdDistiller.Memory.BANK)) {
                d.initialize(base, setup(5));
                ((MemoryBank) d.memory()).setDense(dense);
                assertEquals(-1, d.zStudent());
                double zs = 0;
                double zt = 0;
                for (int stepNo = 0; stepNo < 3; stepNo++) {
                    Step step = new Step(100 + stepNo, 1, 6, 11);
                    try (NDManager m = base.newSubManager()) {
                        NDList state = d.state();
                        float[] memS = state.get(0).toFloatArray();
                        float[] memT = state.get(1).toFloatArray();
                        state.close();
                        DistillBatch batch = step.batch(m, true);
                        LossTerms terms = d.losses(batch);
                        assertEquals(List.of("crd"), List.copyOf(terms.asMap().keySet()));
                        long[] contrast = ((MemoryBank) d.memory()).lastContrast();
                        double[][] vs = plainEmbed(d.auxiliaryBlock(), "embed_s", step.fs);
                        double[][] vt = plainEmbed(d.auxiliaryBlock(), "embed_t", step.ft);
                        // student embedding against the TEACHER memory, and vice versa
                        double[][] logitsS = plainLogits(memT, vs, contrast, 3);
                        double[][] logitsT = plainLogits(memS, vt, contrast, 3);
                        if (stepNo == 0) {
                            zs = NceLossTest.plainZ(logitsS, N);
                            zt = NceLossTest.plainZ(logitsT, N);
                        }
                        assertEquals(zs, d.zStudent(), 1e-4 * zs, "Z_student, step " + stepNo);
                        assertEquals(zt, d.zTeacher(), 1e-4 * zt, "Z_teacher, step " + stepNo);
                        double expected =
                                0.8
                                        * (NceLossTest.plainNce(logitsS, zs, N)
                                                + NceLossTest.plainNce(logitsT, zt, N));
                        assertEquals(
                                expected,
                                terms.asMap().get("crd").getFloat(),
                                1e-4 * Math.abs(expected) + 1e-5);
                        d.afterStep(batch);
                    }
                }
            }
        }
    }

    @Test
    void memoryUpdateMovesOnlyTheBatchRows() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d = crd(3, CrdDistiller.Memory.BANK)) {
            d.initialize(base, setup(9));
            Step step = new Step(3, 2, 7, 9);
            try (NDManager m = base.newSubManager()) {
                NDList before = d.state();
                DistillBatch batch = step.batch(m, true);
                d.losses(batch);
                d.afterStep(batch);
                NDList after = d.state();
                double[][][] v = {
                    plainEmbed(d.auxiliaryBlock(), "embed_s", step.fs),
                    plainEmbed(d.auxiliaryBlock(), "embed_t", step.ft)
                };
                for (int side = 0; side < 2; side++) {
                    float[] old = before.get(side).toFloatArray();
                    float[] now = after.get(side).toFloatArray();
                    for (int row = 0; row < N; row++) {
                        int b = -1;
                        for (int i = 0; i < step.idx.length; i++) {
                            if (step.idx[i] == row) {
                                b = i;
                            }
                        }
                        double[] expected = new double[F];
                        for (int o = 0; o < F; o++) {
                            expected[o] =
                                    b < 0
                                            ? old[row * F + o]
                                            : 0.5 * old[row * F + o] + 0.5 * v[side][b][o];
                        }
                        if (b >= 0) {
                            expected = normalise(expected);
                        }
                        for (int o = 0; o < F; o++) {
                            assertEquals(
                                    expected[o],
                                    now[row * F + o],
                                    1e-5,
                                    "side " + side + " row " + row);
                        }
                    }
                }
                before.close();
                after.close();
            }
        }
    }

    @Test
    void initialMemoryIsUniformInTheReferenceRange() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d = crd(3, CrdDistiller.Memory.BANK)) {
            d.initialize(base, setup(1));
            NDList s = d.state();
            double bound = 1 / Math.sqrt(F / 3.0);
            float[] a = s.get(0).toFloatArray();
            float[] b = s.get(1).toFloatArray();
            assertEquals(N * F, a.length);
            assertFalse(java.util.Arrays.equals(a, b));
            for (float x : a) {
                assertTrue(Math.abs(x) <= bound);
            }
            assertEquals(2L * N * F * 4, d.memoryBytes());
            s.close();
        }
    }

    @Test
    void gradientsReachBothEmbeddingsAndTheStudentNeverTheTeacher() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d =
                        CrdDistiller.builder()
                                .optName("crd_kd")
                                .optAlpha(1)
                                .optFeatDim(F)
                                .optNegatives(3)
                                .build()) {
            d.initialize(base, setup(2));
            Step step = new Step(4, 0, 4, 5);
            try (NDManager m = base.newSubManager()) {
                NDArray fs = m.create(step.fs);
                NDArray ft = m.create(step.ft);
                fs.setRequiresGradient(true);
                ft.setRequiresGradient(true);
                DistillBatch batch = step.batch(m, true, fs, ft);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    LossTerms terms = d.losses(batch);
                    assertEquals(List.of("kd", "crd"), List.copyOf(terms.asMap().keySet()));
                    double kd =
                            KdLoss.compute(batch.student().logits(), batch.teacher().logits(), 4)
                                    .toType(DataType.FLOAT64, false)
                                    .getDouble();
                    assertEquals(DataType.FLOAT32, terms.asMap().get("kd").getDataType());
                    assertEquals(DataType.FLOAT32, terms.asMap().get("crd").getDataType());
                    assertEquals(kd, terms.asMap().get("kd").getFloat(), 1e-5);
                    gc.backward(terms.total());
                }
                assertTrue(maxAbs(fs.getGradient()) > 0, "student feature gets gradient");
                assertEquals(0, maxAbs(ft.getGradient()), "teacher feature gets none");
                for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
                    assertTrue(maxAbs(p.getValue().getArray().getGradient()) > 0, p.getKey());
                }
            }
        }
    }

    @Test
    void studentFeatureGradientMatchesFiniteDifferences() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d = crd(3, CrdDistiller.Memory.BANK)) {
            d.initialize(base, setup(8));
            try (NDManager m = base.newSubManager()) {
                d.losses(new Step(1, 0, 1, 2).batch(m, true)); // sets Z
            }
            Step step = new Step(2, 4, 5, 9);
            try (NDManager m = base.newSubManager()) {
                NDList state = d.state();
                float[] memT = state.get(1).toFloatArray();
                state.close();
                NDArray fs = m.create(step.fs);
                fs.setRequiresGradient(true);
                DistillBatch batch = step.batch(m, true, fs, m.create(step.ft));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(d.losses(batch).total());
                }
                float[] grad = fs.getGradient().toFloatArray();
                assertTrue(
                        maxAbs(fs.getGradient()) > 0.05,
                        "gradient too small to test: " + maxAbs(fs.getGradient()));
                long[] contrast = ((MemoryBank) d.memory()).lastContrast();
                double[][] f = new double[3][DS];
                for (int b = 0; b < 3; b++) {
                    for (int j = 0; j < DS; j++) {
                        f[b][j] = step.fs[b][j];
                    }
                }
                double h = 1e-5;
                for (int b = 0; b < 3; b++) {
                    for (int j = 0; j < DS; j++) {
                        double keep = f[b][j];
                        f[b][j] = keep + h;
                        double up = studentSide(d, f, memT, contrast);
                        f[b][j] = keep - h;
                        double down = studentSide(d, f, memT, contrast);
                        f[b][j] = keep;
                        double fd = (up - down) / (2 * h);
                        assertEquals(
                                fd,
                                grad[b * DS + j],
                                2e-3 * Math.max(1, Math.abs(fd)),
                                "d/dfs[" + b + "][" + j + "]");
                    }
                }
            }
        }
    }

    /** beta * student-side NCE in double (the teacher side does not depend on the student). */
    private static double studentSide(
            CrdDistiller d, double[][] fs, float[] memT, long[] contrast) {
        double[][] vs = plainEmbed(d.auxiliaryBlock(), "embed_s", fs);
        return 0.8 * NceLossTest.plainNce(plainLogits(memT, vs, contrast, 3), d.zStudent(), N);
    }

    static double maxAbs(NDArray a) {
        return a.abs().max().getFloat();
    }

    @Test
    void stateRestoresMemoryZAndSamplerForAnExactResume() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller a = crd(3, CrdDistiller.Memory.BANK);
                CrdDistiller b = crd(3, CrdDistiller.Memory.BANK)) {
            a.initialize(base, setup(21));
            b.initialize(base, setup(21));
            NDList saved;
            try (NDManager m = base.newSubManager()) {
                DistillBatch batch = new Step(1, 3, 4).batch(m, true);
                a.losses(batch);
                a.afterStep(batch);
                saved = a.state();
            }
            b.loadState(saved);
            assertEquals(a.zStudent(), b.zStudent());
            assertEquals(a.zTeacher(), b.zTeacher());
            try (NDManager m = base.newSubManager()) {
                Step next = new Step(2, 8, 10);
                float la = a.losses(next.batch(m, true)).total().getFloat();
                long[] ca = ((MemoryBank) a.memory()).lastContrast().clone();
                float lb = b.losses(next.batch(m, true)).total().getFloat();
                assertArrayEquals(ca, ((MemoryBank) b.memory()).lastContrast());
                assertEquals(la, lb, 0f);
            }
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> b.loadState(new NDList(saved.get(0))));
            assertTrue(e.getMessage().contains("expected 4 state arrays"));
            saved.close();
        }
    }

    @Test
    void stepsLeaveNothingInTheLongLivedManager() {
        for (CrdDistiller.Memory memory : CrdDistiller.Memory.values()) {
            for (boolean dense : new boolean[] {true, false}) {
                try (NDManager base = NDManager.newBaseManager();
                        CrdDistiller d = crd(3, memory)) {
                    d.initialize(base, setup(6));
                    if (memory == CrdDistiller.Memory.BANK) {
                        ((MemoryBank) d.memory()).setDense(dense);
                    }
                    try (NDManager m = base.newSubManager()) {
                        base.cap(); // any array attached to base from now on throws
                        for (int i = 0; i < 3; i++) {
                            DistillBatch batch = new Step(i, 1, 2, 3).batch(m, true);
                            try (GradientCollector gc =
                                    Engine.getInstance().newGradientCollector()) {
                                gc.backward(d.losses(batch).total());
                            }
                            d.afterStep(batch);
                        }
                    }
                }
            }
        }
    }

    @Test
    void evaluationBatchesHaveNoCrdTermAndLeaveMemoryAlone() {
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d = crd(3, CrdDistiller.Memory.BANK)) {
            d.initialize(base, setup(3));
            try (NDManager m = base.newSubManager()) {
                DistillBatch eval = new Step(1, 0, 1).batch(m, false);
                assertTrue(d.losses(eval).isEmpty());
                d.afterStep(eval);
                assertEquals(-1, d.zStudent());
                DistillBatch other = new Step(2, 0, 1).batch(m, true);
                IllegalStateException e =
                        assertThrows(IllegalStateException.class, () -> d.afterStep(other));
                assertTrue(e.getMessage().contains("must follow losses"));
            }
        }
    }

    @Test
    void queueIsFifoAndItsLossIsFinite() {
        int k = 5;
        try (NDManager base = NDManager.newBaseManager();
                CrdDistiller d = crd(k, CrdDistiller.Memory.QUEUE)) {
            d.initialize(
                    base,
                    DistillSetup.builder()
                            .setFeatureDims(DT, DS)
                            .setNumClasses(C)
                            .optSeed(4)
                            .build());
            assertEquals(2L * k * F * 4, d.memoryBytes());
            NDList init = d.state();
            float[] initS = init.get(0).toFloatArray();
            init.close();
            double[][] expectedS = new double[k][];
            double[][] expectedT = new double[k][];
            for (int r = 0; r < k; r++) {
                expectedS[r] = new double[F];
                for (int o = 0; o < F; o++) {
                    expectedS[r][o] = initS[r * F + o];
                }
            }
            int pointer = 0;
            for (int stepNo = 0; stepNo < 4; stepNo++) { // 4 steps x B=2 wraps around K=5
                Step step = new Step(50 + stepNo, 0, 1);
                try (NDManager m = base.newSubManager()) {
                    DistillBatch batch = step.batch(m, true);
                    LossTerms terms = d.losses(batch);
                    float loss = terms.asMap().get("crd").getFloat();
                    assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
                    if (stepNo == 0) { // before any enqueue the queue still holds its init rows
                        checkQueueLoss(d, step, loss, initS, k);
                    }
                    d.afterStep(batch);
                    double[][] vs = plainEmbed(d.auxiliaryBlock(), "embed_s", step.fs);
                    double[][] vt = plainEmbed(d.auxiliaryBlock(), "embed_t", step.ft);
                    for (int b = 0; b < 2; b++) {
                        expectedS[pointer] = vs[b];
                        expectedT[pointer] = vt[b];
                        pointer = (pointer + 1) % k;
                    }
                }
                NDList st = d.state();
                float[] qs = st.get(0).toFloatArray();
                float[] qt = st.get(1).toFloatArray();
                assertEquals(pointer, st.get(2).toLongArray()[0]);
                for (int r = 0; r < k; r++) {
                    for (int o = 0; o < F; o++) {
                        assertEquals(
                                expectedS[r][o], qs[r * F + o], 1e-5, "student queue row " + r);
                        if (expectedT[r] != null) {
                            assertEquals(
                                    expectedT[r][o], qt[r * F + o], 1e-5, "teacher queue row " + r);
                        }
                    }
                }
                st.close();
            }
        }
    }

    /** Queue loss: positive = the other side's current embedding, negatives = the queue rows. */
    private static void checkQueueLoss(
            CrdDistiller d, Step step, float loss, float[] queueS, int k) {
        NDList st = d.state();
        float[] queueT = st.get(1).toFloatArray();
        st.close();
        double[][] vs = plainEmbed(d.auxiliaryBlock(), "embed_s", step.fs);
        double[][] vt = plainEmbed(d.auxiliaryBlock(), "embed_t", step.ft);
        double[][] ls = new double[2][k + 1];
        double[][] lt = new double[2][k + 1];
        for (int b = 0; b < 2; b++) {
            double pos = 0;
            for (int o = 0; o < F; o++) {
                pos += vs[b][o] * vt[b][o];
            }
            ls[b][0] = pos / TAU;
            lt[b][0] = pos / TAU;
            for (int j = 0; j < k; j++) {
                double s = 0;
                double t = 0;
                for (int o = 0; o < F; o++) {
                    s += queueT[j * F + o] * vs[b][o];
                    t += queueS[j * F + o] * vt[b][o];
                }
                ls[b][j + 1] = s / TAU;
                lt[b][j + 1] = t / TAU;
            }
        }
        long n = k; // no data set size given: Pn = 1 / K
        double expected =
                0.8
                        * (NceLossTest.plainNce(ls, NceLossTest.plainZ(ls, n), n)
                                + NceLossTest.plainNce(lt, NceLossTest.plainZ(lt, n), n));
        assertEquals(expected, loss, 1e-4 * Math.abs(expected));
    }

    @Test
    void factoryNamesDefaultsAndOptionErrors() {
        Distiller crd = Distillers.create("crd", DistillerOptions.empty());
        assertEquals("crd", crd.name());
        Distiller kd = Distillers.create("crd_kd", DistillerOptions.empty());
        assertEquals("crd_kd", kd.name());
        Distiller q =
                Distillers.create(
                        "crd",
                        new DistillerOptions(
                                "distill.options",
                                Map.of(
                                        "memory",
                                        "queue",
                                        "nce_k",
                                        64,
                                        "feat_dim",
                                        16,
                                        "nce_t",
                                        0.1,
                                        "nce_momentum",
                                        0.9,
                                        "alpha",
                                        0.5,
                                        "beta",
                                        1.0,
                                        "kd_temperature",
                                        2)));
        assertNotNull(q);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "crd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("nce_kk", 5))));
        assertTrue(e.getMessage().contains("nce_kk"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "crd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("memory", "ring"))));
        assertTrue(e.getMessage().contains("memory") && e.getMessage().contains("queue"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "crd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("nce_momentum", 1.5))));
        assertTrue(e.getMessage().contains("nce_momentum"));
        try (NDManager base = NDManager.newBaseManager()) {
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    crd.initialize(
                                            base,
                                            DistillSetup.builder()
                                                    .setFeatureDims(DT, DS)
                                                    .setNumClasses(C)
                                                    .build()));
            assertTrue(e.getMessage().contains("labels") && e.getMessage().contains("queue"));
        }
    }
}
