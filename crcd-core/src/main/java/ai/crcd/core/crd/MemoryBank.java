package ai.crcd.core.crd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * RepDistiller's per-sample memory: two banks (student, teacher) of n_data x F float32, uniform
 * init in +-1/sqrt(F/3), updated after each step as {@code mem[idx] = normalise(m mem[idx] + (1 -
 * m) v)}. The contrast set of a sample is itself (position 0) and K samples of other classes from a
 * {@link NegativeSampler}.
 *
 * <p>Scoring picks the lighter of two exact ways. When 3 n_data &lt;= (K + 1) F (CIFAR: 150k &lt;=
 * 2.1M) it computes all scores {@code v . mem^T} (B, n_data) with one matmul and gathers the (B, K
 * + 1) it needs (about three (B, n_data) arrays per side with the backward pass: 38 MB for
 * CIFAR-100 and B = 64). Otherwise (e.g. ImageNet) it gathers the (B, K + 1, F) memory rows as
 * RepDistiller does (537 MB per side for B = 64) and uses a batched matmul. Both give the same
 * numbers.
 */
final class MemoryBank implements ContrastMemory {

    private final NDArray memStudent; // (n_data, F)
    private final NDArray memTeacher; // (n_data, F)
    private final NegativeSampler sampler;
    private final int k;
    private final double tau;
    private final double momentum;
    private boolean dense;
    private long[] lastContrast;

    /**
     * Creates the banks.
     *
     * @param manager the owner of the banks
     * @param labels class of every training sample
     * @param numClasses C
     * @param featDim F
     * @param k negatives per sample
     * @param tau temperature
     * @param momentum m of the update
     * @param seed seed of the initial banks and of the sampler
     */
    MemoryBank(
            NDManager manager,
            int[] labels,
            int numClasses,
            int featDim,
            int k,
            double tau,
            double momentum,
            long seed) {
        this.k = k;
        this.tau = tau;
        this.momentum = momentum;
        SeededRandom init = new SeededRandom(SeededRandom.derive(seed, 1));
        this.memStudent = ContrastMemory.uniformInit(manager, labels.length, featDim, init);
        this.memTeacher = ContrastMemory.uniformInit(manager, labels.length, featDim, init);
        this.sampler = new NegativeSampler(labels, numClasses, k, SeededRandom.derive(seed, 2));
        this.dense = 3L * labels.length <= (long) (k + 1) * featDim;
    }

    /**
     * Returns the classes sampled with replacement (fewer than K negatives).
     *
     * @return class ids
     */
    java.util.List<Integer> classesWithReplacement() {
        return sampler.classesWithReplacement();
    }

    /**
     * Chooses the scoring path (tests compare both).
     *
     * @param dense {@code true}: all scores then gather; {@code false}: gather rows then bmm
     */
    void setDense(boolean dense) {
        this.dense = dense;
    }

    /**
     * Returns the contrast indices of the last scored batch.
     *
     * @return (B * (K + 1)) row-major, or {@code null}
     */
    long[] lastContrast() {
        return lastContrast;
    }

    /** {@inheritDoc} */
    @Override
    public NDList logits(NDArray vs, NDArray vt, NDArray indices, NDManager step) {
        if (indices == null) {
            throw new IllegalArgumentException(
                    "crd (memory: bank) needs the batch's training-set sample indices"
                            + " (DistillBatch.setIndices); use a loader that yields them");
        }
        long[] idx = indices.toType(DataType.INT64, false).toLongArray();
        lastContrast = sampler.sample(idx);
        NDArray contrast =
                step.create(lastContrast, new Shape(idx.length, k + 1))
                        .toDevice(vs.getDevice(), false); // (B, K + 1)
        NDArray ls = score(vs, memTeacher, contrast, step); // student vs teacher memory
        NDArray lt = score(vt, memStudent, contrast, step); // teacher vs student memory
        return new NDList(ls, lt);
    }

    private NDArray score(NDArray v, NDArray mem, NDArray contrast, NDManager step) {
        long b = v.getShape().get(0);
        long f = v.getShape().get(1);
        if (dense) {
            NDArray memT = mem.get(step, ALL).transpose(); // (F, n_data), views owned by step
            return Scalars.div(
                    v.matMul(memT).gather(contrast, 1), tau); // (B, n_data) -> (B, K + 1)
        }
        NDArray rows = mem.get(step, new NDIndex("{}", contrast.reshape(-1))); // (B(K+1), F)
        NDArray dots =
                rows.reshape(b, k + 1, f)
                        .batchMatMul(v.reshape(b, f, 1)) // (B, K + 1, 1)
                        .reshape(b, k + 1);
        return Scalars.div(dots, tau); // (B, K + 1)
    }

    /** {@inheritDoc} */
    @Override
    public void update(NDArray vs, NDArray vt, NDArray indices) {
        NDIndex at = new NDIndex("{}", indices.toType(DataType.INT64, false));
        update(memStudent, vs, at);
        update(memTeacher, vt, at);
    }

    private void update(NDArray mem, NDArray v, NDIndex at) {
        NDArray old = mem.get(v.getManager(), at); // (B, F)
        mem.set(
                at,
                Embed.l2Normalise(old.mul((float) momentum).add(v.mul((float) (1 - momentum)))));
    }

    /** {@inheritDoc} */
    @Override
    public NDList state() {
        NDManager m = memStudent.getManager();
        NDArray s = memStudent.duplicate();
        s.setName("crd.memory_student");
        NDArray t = memTeacher.duplicate();
        t.setName("crd.memory_teacher");
        NDArray r = m.create(new long[] {sampler.randomState()});
        r.setName("crd.sampler_state");
        return new NDList(s, t, r);
    }

    /** {@inheritDoc} */
    @Override
    public int stateSize() {
        return 3;
    }

    /** {@inheritDoc} */
    @Override
    public void loadState(NDList state) {
        ContrastMemory.restore(memStudent, state.get(0), "crd.memory_student");
        ContrastMemory.restore(memTeacher, state.get(1), "crd.memory_teacher");
        sampler.setRandomState(state.get(2).toType(DataType.INT64, false).toLongArray()[0]);
    }

    /** {@inheritDoc} */
    @Override
    public long bytes() {
        return 2 * memStudent.getShape().size() * memStudent.getDataType().getNumOfBytes();
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        memStudent.close();
        memTeacher.close();
    }
}
