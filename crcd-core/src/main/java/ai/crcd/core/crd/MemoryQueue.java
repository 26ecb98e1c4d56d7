package ai.crcd.core.crd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * A memory that does not grow with the data set (a deviation from RepDistiller, option {@code
 * memory: queue}): two MoCo-style FIFO queues of the K most recent student and teacher embeddings,
 * K x F each.
 *
 * <p>Positive of a sample: the current embedding of the same sample on the other side, detached
 * (there is no per-sample memory to read it from). Negatives: the K queue entries of the other
 * side, whatever their class (no label filtering). After each step the batch's detached embeddings
 * overwrite the oldest entries. The queues start uniform in +-1/sqrt(F/3), as the banks.
 */
final class MemoryQueue implements ContrastMemory {

    private final NDArray queueStudent; // (K, F)
    private final NDArray queueTeacher; // (K, F)
    private final int k;
    private final double tau;
    private long pointer;

    /**
     * Creates the queues.
     *
     * @param manager the owner
     * @param featDim F
     * @param k queue length = negatives per sample
     * @param tau temperature
     * @param seed seed of the initial entries
     */
    MemoryQueue(NDManager manager, int featDim, int k, double tau, long seed) {
        this.k = k;
        this.tau = tau;
        SeededRandom init = new SeededRandom(SeededRandom.derive(seed, 1));
        queueStudent = ContrastMemory.uniformInit(manager, k, featDim, init);
        queueTeacher = ContrastMemory.uniformInit(manager, k, featDim, init);
    }

    /**
     * Returns the position the next entry is written to.
     *
     * @return the pointer in [0, K)
     */
    long pointer() {
        return pointer;
    }

    /** {@inheritDoc} */
    @Override
    public NDList logits(NDArray vs, NDArray vt, NDArray indices, NDManager step) {
        NDArray ls = score(vs, vt.stopGradient(), queueTeacher, step); // student vs teacher side
        NDArray lt = score(vt, vs.stopGradient(), queueStudent, step); // teacher vs student side
        return new NDList(ls, lt);
    }

    private NDArray score(NDArray v, NDArray positive, NDArray queue, NDManager step) {
        NDArray queueT = queue.get(step, ContrastMemory.ALL).transpose(); // (F, K), views
        NDArray pos = v.mul(positive).sum(new int[] {1}, true); // (B, 1)
        return Scalars.div(pos.concat(v.matMul(queueT), 1), tau); // (B, K + 1)
    }

    /** {@inheritDoc} */
    @Override
    public void update(NDArray vs, NDArray vt, NDArray indices) {
        long b = vs.getShape().get(0);
        long from = Math.max(0, b - k); // when B > K only the last K rows stay
        long n = b - from;
        long first = Math.min(n, k - pointer); // rows before the wrap
        write(vs, vt, from, pointer, first);
        if (first < n) {
            write(vs, vt, from + first, 0, n - first);
        }
        pointer = (pointer + n) % k;
    }

    private void write(NDArray vs, NDArray vt, long src, long dst, long count) {
        NDIndex to = new NDIndex("{}:{}", dst, dst + count);
        NDIndex rows = new NDIndex("{}:{}", src, src + count);
        queueStudent.set(to, vs.get(rows));
        queueTeacher.set(to, vt.get(rows));
    }

    /** {@inheritDoc} */
    @Override
    public NDList state() {
        NDArray s = queueStudent.duplicate();
        s.setName("crd.queue_student");
        NDArray t = queueTeacher.duplicate();
        t.setName("crd.queue_teacher");
        NDArray p = queueStudent.getManager().create(new long[] {pointer});
        p.setName("crd.queue_pointer");
        return new NDList(s, t, p);
    }

    /** {@inheritDoc} */
    @Override
    public int stateSize() {
        return 3;
    }

    /** {@inheritDoc} */
    @Override
    public void loadState(NDList state) {
        ContrastMemory.restore(queueStudent, state.get(0), "crd.queue_student");
        ContrastMemory.restore(queueTeacher, state.get(1), "crd.queue_teacher");
        long p = state.get(2).toType(DataType.INT64, false).toLongArray()[0];
        if (p < 0 || p >= k) {
            throw new IllegalArgumentException(
                    "crd checkpoint: crd.queue_pointer is " + p + ", expected [0, " + k + ")");
        }
        pointer = p;
    }

    /** {@inheritDoc} */
    @Override
    public long bytes() {
        return 2 * queueStudent.getShape().size() * queueStudent.getDataType().getNumOfBytes();
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        queueStudent.close();
        queueTeacher.close();
    }
}
