package ai.crcd.core.crd;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.kd.KdLoss;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Contrastive Representation Distillation (Tian et al., ICLR 2020) as RepDistiller implements it.
 *
 * <ul>
 *   <li>Embeddings: {@code Linear(d, F)} + l2 normalisation on the pooled feature of the student
 *       and of the (detached) teacher, both trained ({@link CrdEmbeddings}).
 *   <li>Memory ({@code memory: bank}, default): per-sample banks n_data x F for each side; the
 *       contrast set of a sample is itself and K samples of other classes; scores {@code exp(mem .
 *       v / tau) / Z}, Z fixed on the first training batch as {@code mean(exp(score)) * n_data},
 *       per side. The student embedding is scored against the teacher memory and vice versa.
 *   <li>Loss: {@link NceLoss} per side, CRD = student side + teacher side, weighted by beta; with
 *       alpha &gt; 0 a Hinton KD term ({@link KdLoss}) is added.
 *   <li>After each training step the banks take the step's embeddings with momentum.
 * </ul>
 *
 * <p>{@code memory: queue} replaces the banks by FIFO queues of the K most recent embeddings
 * ({@link MemoryQueue}; a documented deviation). Evaluation batches ({@code training() == false})
 * get no CRD term, as RepDistiller's validation: the memory is indexed by training samples.
 */
public final class CrdDistiller implements Distiller {

    private static final Logger logger = LoggerFactory.getLogger(CrdDistiller.class);

    /** Where the contrast set comes from. */
    public enum Memory {
        /** Per-sample banks as RepDistiller (memory grows with n_data). */
        BANK,
        /** FIFO queues of the K most recent embeddings (memory independent of n_data). */
        QUEUE
    }

    private final String name;
    private final double alpha;
    private final double beta;
    private final int featDim;
    private final int k;
    private final double tau;
    private final double momentum;
    private final double kdTemperature;
    private final Memory memoryKind;

    private CrdEmbeddings embeddings;
    private ContrastMemory memory;
    private long nData;
    private double zStudent = -1;
    private double zTeacher = -1;
    private Pending pending;

    private CrdDistiller(Builder b) {
        this.name = b.name;
        this.alpha = b.alpha;
        this.beta = b.beta;
        this.featDim = b.featDim;
        this.k = b.k;
        this.tau = b.tau;
        this.momentum = b.momentum;
        this.kdTemperature = b.kdTemperature;
        this.memoryKind = b.memory;
    }

    /**
     * Returns a new builder with RepDistiller's defaults (alpha 0, beta 0.8, F 128, K 16384, tau
     * 0.07, momentum 0.5, KD temperature 4, memory bank).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public String name() {
        return name;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Needs the training-set labels ({@link DistillSetup#datasetLabels()}) for {@code memory:
     * bank}; the queue needs none (n_data, when known, sets Pn = 1 / n_data, else K is used).
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        long seed = setup.seed();
        embeddings =
                new CrdEmbeddings(
                        setup.studentDim(),
                        setup.teacherDim(),
                        featDim,
                        SeededRandom.derive(seed, 3));
        embeddings.initialize(
                manager,
                setup.dataType(),
                new Shape(1, setup.studentDim()),
                new Shape(1, setup.teacherDim()));
        if (memoryKind == Memory.BANK) {
            int[] labels = setup.datasetLabels();
            if (labels == null || labels.length == 0) {
                throw new IllegalArgumentException(
                        name
                                + " (memory: bank) needs the training-set labels to draw negatives"
                                + " of other classes: DistillSetup.optDatasetLabels(...) was not"
                                + " given; pass them, or set distill.options.memory: queue");
            }
            nData = labels.length;
            MemoryBank bank =
                    new MemoryBank(
                            manager, labels, setup.numClasses(), featDim, k, tau, momentum, seed);
            List<Integer> replace = bank.classesWithReplacement();
            if (!replace.isEmpty()) {
                logger.warn(
                        "{}: nce_k={} exceeds the negatives available to class(es) {}: those draw"
                                + " negatives with replacement (as RepDistiller)",
                        name,
                        k,
                        replace);
            }
            memory = bank;
        } else {
            nData = setup.datasetSize() > 0 ? setup.datasetSize() : k;
            memory = new MemoryQueue(manager, featDim, k, tau, seed);
        }
        logger.info(
                "{}: memory {} holds {} ({} bytes)",
                name,
                memoryKind.name().toLowerCase(Locale.ROOT),
                String.format(Locale.ROOT, "%.1f MB", memory.bytes() / 1e6),
                memory.bytes());
    }

    /**
     * Estimates one training step's extra memory: the two memories (banks n_data x F each, or
     * queues K x F each), and per side the gathered contrast rows B x (K + 1) x F (x2: kept for the
     * backward pass with their gradient), the contrast indices B x (K + 1) (int64, on the host and
     * the device) and the scores B x (K + 1) (x6: the NCE loss's element-wise chain).
     *
     * @param setup the data set size (for the banks)
     * @param batchSize B
     * @return bytes, saturated at {@link Long#MAX_VALUE}
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        double b = batchSize;
        double k1 = k + 1.0;
        double f = featDim;
        double word = setup.dataType().getNumOfBytes();
        double n =
                setup.datasetLabels() != null
                        ? setup.datasetLabels().length
                        : Math.max(setup.datasetSize(), 0);
        double memory = memoryKind == Memory.BANK ? 2 * n * f : 2 * k * f;
        double perSide =
                (memoryKind == Memory.BANK ? b * k1 * f * 2 : k * f) + b * k1 * 6 + b * k1 * 4;
        double total = (memory + 2 * perSide) * word;
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    /** {@inheritDoc} */
    @Override
    public Block auxiliaryBlock() {
        return embeddings;
    }

    /** {@inheritDoc} */
    @Override
    public LossTerms losses(DistillBatch batch) {
        if (embeddings == null) {
            throw new IllegalStateException(name + ": call initialize(...) before losses(...)");
        }
        FeatureOutput s = batch.student();
        FeatureOutput t = batch.teacher();
        LossTerms terms = new LossTerms();
        if (alpha > 0) {
            // weighted inside KdLoss, in the logits' type (a cast here would cut the graph)
            terms.put(
                    "kd",
                    KdLoss.compute(s.logits(), t.logits().stopGradient(), kdTemperature, alpha));
        }
        if (!batch.training()) {
            return terms;
        }
        NDList v =
                embeddings.forward(
                        batch.parameterStore(),
                        new NDList(s.pooled(), t.pooled().stopGradient()),
                        true);
        NDArray vs = v.get(0); // (B, F)
        NDArray vt = v.get(1); // (B, F)
        NDList logits = memory.logits(vs, vt, batch.indices(), batch.manager());
        if (zStudent < 0) {
            zStudent = NceLoss.normaliser(logits.get(0), nData);
            zTeacher = NceLoss.normaliser(logits.get(1), nData);
            logger.info(
                    "{}: normalisation constants set: Z_student={}, Z_teacher={}",
                    name,
                    zStudent,
                    zTeacher);
        }
        NDArray crd =
                NceLoss.compute(logits.get(0), zStudent, nData)
                        .add(NceLoss.compute(logits.get(1), zTeacher, nData));
        terms.put("crd", Scalars.mul(crd, beta));
        pending = new Pending(batch, vs.stopGradient(), vt.stopGradient(), batch.indices());
        return terms;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Writes the embeddings computed by the last {@link #losses(DistillBatch)} (before the
     * optimiser step, as RepDistiller) into the memory.
     *
     * @throws IllegalStateException if the batch is not the one of the last {@code losses} call
     */
    @Override
    public void afterStep(DistillBatch batch) {
        if (!batch.training()) {
            return;
        }
        if (pending == null || pending.batch != batch) {
            throw new IllegalStateException(
                    name
                            + ": afterStep(batch) must follow losses(batch) for the same training"
                            + " batch");
        }
        memory.update(pending.vs, pending.vt, pending.indices);
        pending = null;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Layout: the memory's arrays ({@code crd.memory_student}, {@code crd.memory_teacher},
     * {@code crd.sampler_state} for the bank; {@code crd.queue_student}, {@code crd.queue_teacher},
     * {@code crd.queue_pointer} for the queue), then {@code crd.z} (2) float64 [Z_student,
     * Z_teacher], -1 while unset. The arrays are fresh copies owned by the caller.
     */
    @Override
    public NDList state() {
        NDList out = memory.state();
        NDArray z = out.head().getManager().create(new double[] {zStudent, zTeacher});
        z.setName("crd.z");
        out.add(z);
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public void loadState(NDList state) {
        int expected = memory.stateSize() + 1;
        if (state.size() != expected) {
            throw new IllegalArgumentException(
                    name
                            + " checkpoint: expected "
                            + expected
                            + " state arrays (memory "
                            + memoryKind.name().toLowerCase(Locale.ROOT)
                            + "), got "
                            + state.size()
                            + "; the checkpoint was written with another memory option or method");
        }
        memory.loadState(state.subNDList(0, memory.stateSize()));
        double[] z = state.get(memory.stateSize()).toType(DataType.FLOAT64, false).toDoubleArray();
        zStudent = z[0];
        zTeacher = z[1];
        pending = null;
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        if (memory != null) {
            memory.close();
        }
    }

    /**
     * Returns the student-side normaliser Z, -1 before the first training batch.
     *
     * @return Z_student
     */
    public double zStudent() {
        return zStudent;
    }

    /**
     * Returns the teacher-side normaliser Z, -1 before the first training batch.
     *
     * @return Z_teacher
     */
    public double zTeacher() {
        return zTeacher;
    }

    /**
     * Returns the bytes held by the memory (banks or queues).
     *
     * @return bytes, 0 before initialisation
     */
    public long memoryBytes() {
        return memory == null ? 0 : memory.bytes();
    }

    /**
     * Returns the memory implementation (tests).
     *
     * @return the memory
     */
    ContrastMemory memory() {
        return memory;
    }

    /** What afterStep needs of the last training batch. */
    private static final class Pending {
        final DistillBatch batch;
        final NDArray vs;
        final NDArray vt;
        final NDArray indices;

        Pending(DistillBatch batch, NDArray vs, NDArray vt, NDArray indices) {
            this.batch = batch;
            this.vs = vs;
            this.vt = vt;
            this.indices = indices;
        }
    }

    /** Builder for {@link CrdDistiller}; every setting is optional ({@code opt*}). */
    public static final class Builder {
        private String name = "crd";
        private double alpha;
        private double beta = 0.8;
        private int featDim = 128;
        private int k = 16384;
        private double tau = 0.07;
        private double momentum = 0.5;
        private double kdTemperature = 4;
        private Memory memory = Memory.BANK;

        Builder() {}

        /**
         * Sets the name reported by {@link CrdDistiller#name()}; default {@code crd}.
         *
         * @param name the name
         * @return this builder
         */
        public Builder optName(String name) {
            this.name = name;
            return this;
        }

        /**
         * Sets the KD weight; default 0 (no KD term).
         *
         * @param alpha &gt;= 0
         * @return this builder
         */
        public Builder optAlpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        /**
         * Sets the CRD weight; default 0.8.
         *
         * @param beta &gt;= 0
         * @return this builder
         */
        public Builder optBeta(double beta) {
            this.beta = beta;
            return this;
        }

        /**
         * Sets the embedding size F; default 128.
         *
         * @param featDim F &gt;= 1
         * @return this builder
         */
        public Builder optFeatDim(int featDim) {
            this.featDim = featDim;
            return this;
        }

        /**
         * Sets the negatives per sample K (also the queue length); default 16384.
         *
         * @param k K &gt;= 1
         * @return this builder
         */
        public Builder optNegatives(int k) {
            this.k = k;
            return this;
        }

        /**
         * Sets the temperature tau; default 0.07.
         *
         * @param tau tau &gt; 0
         * @return this builder
         */
        public Builder optTemperature(double tau) {
            this.tau = tau;
            return this;
        }

        /**
         * Sets the momentum m of the bank update; default 0.5.
         *
         * @param momentum m in [0, 1]
         * @return this builder
         */
        public Builder optMomentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /**
         * Sets the KD temperature; default 4.
         *
         * @param kdTemperature T &gt; 0
         * @return this builder
         */
        public Builder optKdTemperature(double kdTemperature) {
            this.kdTemperature = kdTemperature;
            return this;
        }

        /**
         * Sets the memory; default {@link Memory#BANK}.
         *
         * @param memory bank or queue
         * @return this builder
         */
        public Builder optMemory(Memory memory) {
            this.memory = memory;
            return this;
        }

        /**
         * Builds the distiller.
         *
         * @return the distiller
         * @throws IllegalArgumentException for a value out of range, naming it
         */
        public CrdDistiller build() {
            check(alpha >= 0, "alpha", alpha, ">= 0");
            check(beta >= 0, "beta", beta, ">= 0");
            check(featDim >= 1, "feat_dim", featDim, ">= 1");
            check(k >= 1, "nce_k", k, ">= 1");
            check(tau > 0, "nce_t", tau, "> 0");
            check(momentum >= 0 && momentum <= 1, "nce_momentum", momentum, "in [0, 1]");
            check(kdTemperature > 0, "kd_temperature", kdTemperature, "> 0");
            return new CrdDistiller(this);
        }

        private void check(boolean ok, String key, Object value, String allowed) {
            if (!ok) {
                throw new IllegalArgumentException(
                        name + ": option " + key + " = " + value + ", allowed: " + allowed);
            }
        }
    }

    /**
     * Factory for {@code crd} (beta 0.8, no KD) and {@code crd_kd} (alpha 1 with KD temperature 4,
     * beta 0.8). Options: alpha, beta, feat_dim, nce_k, nce_t, nce_momentum, kd_temperature, memory
     * ({@code bank} | {@code queue}).
     */
    public static final class Factory implements DistillerFactory {

        /** {@inheritDoc} */
        @Override
        public List<String> names() {
            return List.of("crd", "crd_kd");
        }

        /** {@inheritDoc} */
        @Override
        public Distiller create(String name, DistillerOptions options) {
            if (!names().contains(name)) {
                throw new IllegalArgumentException(
                        "crd factory: unknown method '" + name + "', allowed: " + names());
            }
            Builder b = builder().optName(name);
            b.optAlpha(options.getDouble("alpha", "crd_kd".equals(name) ? 1.0 : 0.0, 0));
            b.optBeta(options.getDouble("beta", 0.8, 0));
            b.optFeatDim(options.getInt("feat_dim", 128, 1));
            b.optNegatives(options.getInt("nce_k", 16384, 1));
            b.optTemperature(options.getPositiveDouble("nce_t", 0.07));
            double m = options.getDouble("nce_momentum", 0.5, 0);
            if (m > 1) {
                throw new IllegalArgumentException(
                        options.path()
                                + ".nce_momentum: got '"
                                + m
                                + "', allowed: a number in [0, 1]");
            }
            b.optMomentum(m);
            b.optKdTemperature(options.getPositiveDouble("kd_temperature", 4));
            String memory = options.getChoice("memory", "bank", "bank", "queue");
            b.optMemory(Memory.valueOf(memory.toUpperCase(Locale.ROOT)));
            options.checkNoUnknownKeys();
            return b.build();
        }
    }
}
