package ai.crcd.core.training;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.InitStage;
import ai.crcd.core.InputViews;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.crcd.core.StudentWithAuxiliary;
import ai.crcd.core.TeacherUse;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one training step of crcd: teacher forward in inference mode (frozen, through its own {@link
 * ParameterStore}, {@code training=false}, no gradient), student forward, {@code ce_weight * CE}
 * plus the distiller's weighted terms (each cast to float32), backward, an optimiser update of
 * every trained parameter of the student and the distiller's auxiliary block, then {@link
 * Distiller#afterStep(DistillBatch)}.
 *
 * <p>Used by crcd-train's run loop, crcd-bench's step benchmark, GPU smoke and loader benchmark
 * ({@link #train}), and by a DJL user's {@code EasyTrain.fit} through {@link Distillation}, whose
 * loss calls {@link #losses} and whose listener calls {@link #afterStep}.
 *
 * <p>Memory: every per-step array is created from the batch's arrays and so lives in the batch's
 * manager; closing the batch frees the step. Scalars on the differentiable path go through {@link
 * Scalars}. The step does not copy anything to the host unless {@link
 * Builder#optSkipNonFinite(boolean)} is on (then one copy of the (T) terms before backward).
 *
 * <p>Views: {@link #train} asks the distiller for its {@link Distiller#trainingViews} of the batch
 * (the batch itself for most methods; SSKD's four rotations), runs teacher and student on all rows,
 * and computes CE and the top-1 hits on the originals (the first B rows) only.
 *
 * <p>Without a teacher (plain training), or when the distiller's {@link Distiller#teacherUse()} is
 * {@link TeacherUse#NONE} (vanilla: the teacher is never run), the step is {@code ce_weight * CE}
 * only.
 *
 * <p>Init stage: when the distiller asks for one ({@link Distiller#initStage()}), {@link
 * #enterInitStage()} switches {@link #train} to it: the stage's objective alone (no CE), the
 * student in the stage's mode, an update by the init optimiser ({@link Builder#optInitOptimizer})
 * of the stage's parameters only, the gradients of every other parameter zeroed, no {@link
 * Distiller#afterStep}. {@link #enterMainStage()} switches back. The init stage's init-only blocks
 * are never updated by the main stage.
 */
public final class DistillStep {

    /** Name of the cross-entropy term; the first of {@link #termNames()}. */
    public static final String CE = "ce";

    private final StudentWithAuxiliary net;
    private final DistillableNetwork teacher;
    private final Distiller distiller;
    private final double ceWeight;
    private final Optimizer optimizer;
    private final boolean skipNonFinite;
    private final ParameterStore teacherStore;
    private final ParameterStore trainStore;
    private final List<Parameter> trained = new ArrayList<>();
    private List<String> termNames;
    private int epoch = 1;
    private final InitStage init;
    private final Optimizer initOptimizer;
    private final Set<Parameter> initOnly = Collections.newSetFromMap(new IdentityHashMap<>());
    private List<Parameter> initTrained;
    private List<String> initTermNames;
    private boolean inInit;

    private DistillStep(Builder b) {
        this.net = b.net;
        this.teacher = b.teacher;
        this.distiller = b.distiller;
        this.ceWeight = b.ceWeight;
        this.optimizer = b.optimizer;
        this.skipNonFinite = b.skipNonFinite;
        NDManager manager = b.manager;
        this.teacherStore = new ParameterStore(manager, false);
        this.trainStore = new ParameterStore(manager, false);
        this.init = distiller == null ? null : distiller.initStage().orElse(null);
        this.initOptimizer = b.initOptimizer;
        if (init != null) {
            for (Block block : init.initOnlyBlocks()) {
                initOnly.addAll(block.getParameters().values());
            }
        }
        for (Pair<String, Parameter> p : net.getParameters()) {
            if (p.getValue().requiresGradient() && !initOnly.contains(p.getValue())) {
                trained.add(p.getValue());
            }
        }
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs one full training step on a batch.
     *
     * @param x (B, C, H, W) images, in a per-step manager
     * @param y (B) int64 labels
     * @param indices (B) int64 sample indices in the training set, or {@code null} when the
     *     distiller needs none
     * @return the detached terms and top-1 hits, or a skipped result (non-finite term, with {@link
     *     Builder#optSkipNonFinite(boolean)} on: no backward, no update, no afterStep)
     * @throws IllegalStateException without an optimiser
     */
    public StepResult train(NDArray x, NDArray y, NDArray indices) {
        if (inInit) {
            return trainInit(x, y, indices);
        }
        if (optimizer == null) {
            throw new IllegalStateException("DistillStep.train needs an optimiser: optOptimizer");
        }
        // the method's views of the batch (originals first); the batch itself for most methods
        InputViews views = distiller == null ? InputViews.single(x) : distiller.trainingViews(x);
        NDArray in = views.inputs(); // (V * B, C, H, W)
        FeatureOutput tOut = teacherForward(in);
        Losses l;
        NDArray vec;
        try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
            FeatureOutput sOut = studentForward(in, true);
            l = losses(sOut, tOut, y, indices, views.views());
            if (skipNonFinite) {
                float[] v = l.stacked().toFloatArray();
                for (float f : v) {
                    if (!Float.isFinite(f)) {
                        return StepResult.skipped(termNames, v);
                    }
                }
            }
            gc.backward(l.stacked().sum());
            vec = l.stacked().stopGradient();
        }
        update();
        afterStep(l.batch());
        return new StepResult(termNames, vec, top1Hits(l.logits().stopGradient(), y));
    }

    /** One step of the init stage (see the class comment). */
    private StepResult trainInit(NDArray x, NDArray y, NDArray indices) {
        List<Parameter> params = initParameters(x);
        InputViews views = distiller.trainingViews(x); // the init objective sees the views too
        NDArray in = views.inputs(); // (V * B, C, H, W)
        FeatureOutput tOut = teacherForward(in);
        NDArray stacked;
        NDArray logits;
        try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
            FeatureOutput sOut = studentForward(in, init.studentTraining());
            LossTerms terms =
                    init.objective().losses(batchOf(sOut, tOut, y, indices, views.views()));
            if (terms.isEmpty() || terms.asMap().containsKey(CE)) {
                throw new IllegalStateException(
                        "the init stage of "
                                + distiller.name()
                                + " returned "
                                + (terms.isEmpty() ? "no term" : "a term 'ce'"));
            }
            if (initTermNames == null) {
                initTermNames =
                        Collections.unmodifiableList(new ArrayList<>(terms.asMap().keySet()));
            }
            stacked = stackFloat32(terms); // (T)
            logits = InputViews.originals(sOut.logits(), views.views()); // (B, C)
            if (skipNonFinite) {
                float[] v = stacked.toFloatArray();
                for (float f : v) {
                    if (!Float.isFinite(f)) {
                        return StepResult.skipped(initTermNames, v);
                    }
                }
            }
            gc.backward(stacked.sum());
            stacked = stacked.stopGradient();
        }
        Set<Parameter> updated = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : params) {
            NDArray w = p.getArray();
            try (NDArray g = w.getGradient()) {
                initOptimizer.update(p.getId(), w, g);
                g.subi(g);
            }
            updated.add(p);
        }
        List<Parameter> others = new ArrayList<>(trained);
        others.addAll(initOnly);
        for (Parameter p : others) { // nothing outside the stage's subset keeps a gradient
            if (!updated.contains(p)) {
                try (NDArray g = p.getArray().getGradient()) {
                    g.subi(g);
                }
            }
        }
        return new StepResult(initTermNames, stacked, top1Hits(logits.stopGradient(), y));
    }

    /**
     * Returns the parameters the init stage trains, in block order; the student's feature modules
     * are found once, on the first init batch, as the student parameters that receive a gradient
     * from its stem and stage outputs (inference mode, so no BatchNorm statistic moves).
     */
    private List<Parameter> initParameters(NDArray x) {
        if (initTrained != null) {
            return initTrained;
        }
        if (init == null || initOptimizer == null) {
            throw new IllegalStateException(
                    "DistillStep init stage needs a distiller with an init stage and"
                            + " optInitOptimizer");
        }
        Set<Parameter> chosen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Block block : init.trainedBlocks()) {
            chosen.addAll(block.getParameters().values());
        }
        chosen.addAll(initOnly);
        if (init.trainsStudentFeatures()) {
            chosen.addAll(studentFeatureParameters(x));
        }
        List<Parameter> list = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            if (p.getValue().requiresGradient() && chosen.contains(p.getValue())) {
                list.add(p.getValue());
            }
        }
        initTrained = Collections.unmodifiableList(list);
        return initTrained;
    }

    private List<Parameter> studentFeatureParameters(NDArray x) {
        try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
            FeatureOutput out = studentForward(x, false);
            List<NDArray> feats = new ArrayList<>(out.stages());
            if (out.stem() != null) {
                feats.add(out.stem());
            }
            if (feats.isEmpty()) {
                throw new IllegalStateException(
                        "the init stage of "
                                + distiller.name()
                                + " trains the student's feature modules, but the student"
                                + " returns no stem or stage outputs");
            }
            NDArray probe = null;
            for (NDArray f : feats) {
                NDArray s = f.sum().add(f.square().sum()); // ()
                probe = probe == null ? s : probe.add(s);
            }
            gc.backward(probe);
        }
        List<Parameter> used = new ArrayList<>();
        for (Parameter p : net.student().getParameters().values()) {
            if (!p.requiresGradient()) {
                continue;
            }
            try (NDArray g = p.getArray().getGradient()) {
                try (NDArray a = g.abs().sum()) {
                    if (a.getFloat() > 0) {
                        used.add(p);
                    }
                }
                g.subi(g);
            }
        }
        return used;
    }

    /**
     * Switches {@link #train} to the distiller's init stage.
     *
     * @throws IllegalStateException if the distiller has no init stage
     */
    public void enterInitStage() {
        if (init == null) {
            throw new IllegalStateException("the distiller has no init stage");
        }
        inInit = true;
    }

    /** Switches {@link #train} to the main stage (the default). */
    public void enterMainStage() {
        inInit = false;
    }

    /**
     * Returns whether {@link #train} runs the init stage.
     *
     * @return true between {@link #enterInitStage()} and {@link #enterMainStage()}
     */
    public boolean inInitStage() {
        return inInit;
    }

    /**
     * Returns the distiller's init stage.
     *
     * @return the stage, or empty
     */
    public Optional<InitStage> initStage() {
        return Optional.ofNullable(init);
    }

    /**
     * Returns the parameters the init stage trains (known after its first step).
     *
     * @return the parameters in block order, or {@code null} before the first init step
     */
    public List<Parameter> initTrainedParameters() {
        return initTrained;
    }

    /**
     * Counts the samples whose true class has the strictly largest logit (a tie or a NaN logit in
     * the row is a miss, as crcd-train's {@code TopKHits}).
     *
     * @param logits (B, C) detached
     * @param labels (B) int64
     * @return () int64
     */
    static NDArray top1Hits(NDArray logits, NDArray labels) {
        int classes = Math.toIntExact(logits.getShape().get(1));
        NDArray truth = logits.mul(labels.oneHot(classes)).sum(new int[] {1}, true); // (B, 1)
        // (B) classes not below the truth: ties and NaN (every comparison false) count
        NDArray notBelow = logits.lt(truth).logicalNot().sum(new int[] {1});
        return notBelow.eq(1).sum().toType(DataType.INT64, false); // ()
    }

    /** One optimiser update of every trained parameter; zeroes the gradients for the next step. */
    private void update() {
        for (Parameter p : trained) {
            NDArray w = p.getArray();
            try (NDArray g = w.getGradient()) {
                optimizer.update(p.getId(), w, g);
                g.subi(g);
            }
        }
    }

    /**
     * Runs the frozen teacher in inference mode, unless the distiller does not use it.
     *
     * @param x (B, C, H, W) images
     * @return the teacher's output (no gradient), or {@code null} without a teacher or when the
     *     distiller's {@link Distiller#teacherUse()} is {@link TeacherUse#NONE} (then the step is
     *     cross-entropy only)
     */
    public FeatureOutput teacherForward(NDArray x) {
        if (!usesTeacher()) {
            return null;
        }
        return FeatureOutput.fromNDList(teacher.forward(teacherStore, new NDList(x), false));
    }

    /** Whether the step runs the teacher: a teacher is set and the distiller uses it. */
    private boolean usesTeacher() {
        return teacher != null && distiller.teacherUse() != TeacherUse.NONE;
    }

    private FeatureOutput studentForward(NDArray x, boolean training) {
        return FeatureOutput.fromNDList(net.forward(trainStore, new NDList(x), training));
    }

    /**
     * Computes {@code ce_weight * CE} and the distiller's terms for one batch; call inside a
     * gradient collector to train.
     *
     * @param student the student's output (with gradient)
     * @param teacher the teacher's output from {@link #teacherForward}, or {@code null} for CE only
     * @param labels (B) int64 labels
     * @param indices (B) int64 sample indices, or {@code null}
     * @return the terms, their (T) float32 stack, the batch for {@link #afterStep}
     */
    public Losses losses(
            FeatureOutput student, FeatureOutput teacher, NDArray labels, NDArray indices) {
        return losses(student, teacher, labels, indices, 1);
    }

    /**
     * Computes {@code ce_weight * CE} on the originals and the distiller's terms for a batch of
     * several views of each image (see {@link InputViews}); call inside a gradient collector.
     *
     * @param student the student's output on the V * B view-major rows (with gradient)
     * @param teacher the teacher's output on the same rows, or {@code null} for CE only
     * @param labels (B) int64 labels of the originals
     * @param indices (B) int64 sample indices, or {@code null}
     * @param views V &gt;= 1, from {@link Distiller#trainingViews}
     * @return the terms, their (T) float32 stack, the batch, the originals' logits (B, C)
     */
    public Losses losses(
            FeatureOutput student,
            FeatureOutput teacher,
            NDArray labels,
            NDArray indices,
            int views) {
        NDArray logits = InputViews.originals(student.logits(), views); // (B, C)
        LossTerms terms = new LossTerms();
        terms.put(CE, Scalars.mul(crossEntropy(logits, labels), ceWeight));
        DistillBatch db = null;
        if (teacher != null) {
            db = batchOf(student, teacher, labels, indices, views);
            for (Map.Entry<String, NDArray> e : distiller.losses(db).asMap().entrySet()) {
                if (CE.equals(e.getKey())) {
                    throw new IllegalStateException(
                            "distiller " + distiller.name() + " returned term 'ce'");
                }
                terms.put(e.getKey(), e.getValue());
            }
        }
        if (termNames == null && (teacher != null || !usesTeacher())) {
            termNames = Collections.unmodifiableList(new ArrayList<>(terms.asMap().keySet()));
        }
        return new Losses(terms, stackFloat32(terms), db, logits); // (T)
    }

    /** The batch a distiller sees; outputs on V * B view-major rows, labels of the originals. */
    private DistillBatch batchOf(
            FeatureOutput student,
            FeatureOutput teacher,
            NDArray labels,
            NDArray indices,
            int views) {
        return DistillBatch.builder()
                .setTeacher(teacher)
                .setStudent(student)
                .setLabels(labels)
                .setIndices(indices)
                .setParameterStore(trainStore)
                .optViews(views)
                .optEpoch(epoch)
                .optHeadWeights(
                        this.teacher.classifierWeight().getArray(),
                        net.student().classifierWeight().getArray())
                .build();
    }

    /** The terms as one (T) float32 array, in order. */
    private static NDArray stackFloat32(LossTerms terms) {
        NDList parts = new NDList();
        for (NDArray v : terms.asMap().values()) {
            parts.add(v.getDataType() == DataType.FLOAT32 ? v : v.toType(DataType.FLOAT32, false));
        }
        return NDArrays.stack(parts); // (T)
    }

    /**
     * Sets the 1-based epoch that the following batches belong to ({@link DistillBatch#epoch()});
     * crcd-train's loop sets it at the start of every epoch, {@link Distillation}'s listener counts
     * DJL's epochs. Default 1.
     *
     * @param epoch the epoch, &gt;= 1
     */
    public void setEpoch(int epoch) {
        if (epoch < 1) {
            throw new IllegalArgumentException("DistillStep epoch is 1-based, got " + epoch);
        }
        this.epoch = epoch;
    }

    /**
     * Returns the 1-based epoch given to the batches.
     *
     * @return the epoch
     */
    public int epoch() {
        return epoch;
    }

    /**
     * Lets the distiller update its buffers after a training step.
     *
     * @param batch the batch of {@link Losses#batch()}, or {@code null} (plain training)
     */
    public void afterStep(DistillBatch batch) {
        if (batch != null) {
            distiller.afterStep(batch);
        }
    }

    /**
     * Returns the names of the loss terms ({@code "ce"} first), known after the first step; in the
     * init stage, the init objective's terms.
     *
     * @return the names, or {@code null} before the first step
     */
    public List<String> termNames() {
        return inInit ? initTermNames : termNames;
    }

    /**
     * Returns the parameter store of the student and the auxiliary block (for evaluation).
     *
     * @return the store
     */
    public ParameterStore parameterStore() {
        return trainStore;
    }

    /**
     * Returns the teacher's parameter store (inference mode, never updated).
     *
     * @return the store
     */
    public ParameterStore teacherParameterStore() {
        return teacherStore;
    }

    /**
     * Returns the student with the auxiliary block.
     *
     * @return the trained parent block
     */
    public StudentWithAuxiliary network() {
        return net;
    }

    /**
     * Returns the teacher.
     *
     * @return the frozen teacher, or {@code null} for plain training
     */
    public DistillableNetwork teacher() {
        return teacher;
    }

    /**
     * Returns the distiller.
     *
     * @return the distiller
     */
    public Distiller distiller() {
        return distiller;
    }

    /**
     * Returns the trained parameters (student and auxiliary block, requiring gradient), in block
     * order.
     *
     * @return the parameters
     */
    public List<Parameter> trainedParameters() {
        return Collections.unmodifiableList(trained);
    }

    /**
     * Mean cross-entropy, built from GC-safe ops (see {@link Scalars}).
     *
     * @param logits (B, C)
     * @param labels (B) int64
     * @return () the mean over the batch
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        long classes = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(1); // (B, C)
        NDArray picked = logp.mul(labels.oneHot((int) classes)).sum(); // ()
        return Scalars.mul(picked, -1.0 / logits.getShape().get(0));
    }

    /**
     * The loss terms of one batch.
     *
     * @param terms the named, weighted scalar terms ({@code "ce"} first)
     * @param stacked (T) the terms as float32, in the same order, with gradient
     * @param batch what the distiller saw (for {@link #afterStep}), {@code null} without teacher
     * @param logits (B, C) the student's logits on the originals
     */
    public record Losses(LossTerms terms, NDArray stacked, DistillBatch batch, NDArray logits) {}

    /** Builder for {@link DistillStep}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private StudentWithAuxiliary net;
        private DistillableNetwork teacher;
        private Distiller distiller;
        private double ceWeight = 1.0;
        private Optimizer optimizer;
        private boolean skipNonFinite;
        private NDManager manager;
        private Optimizer initOptimizer;

        Builder() {}

        /**
         * Sets the optimiser of the distiller's init stage (a fresh one, used by {@link #train}
         * between {@link DistillStep#enterInitStage()} and {@link DistillStep#enterMainStage()}).
         *
         * @param optimizer the init stage's optimiser
         * @return this builder
         */
        public Builder optInitOptimizer(Optimizer optimizer) {
            this.initOptimizer = optimizer;
            return this;
        }

        /**
         * Sets the trained network: the student with the distiller's auxiliary block.
         *
         * @param net the parent block, initialised
         * @return this builder
         */
        public Builder setNetwork(StudentWithAuxiliary net) {
            this.net = net;
            return this;
        }

        /**
         * Sets the manager of the parameter stores (a long-lived one, e.g. the model's).
         *
         * @param manager the manager
         * @return this builder
         */
        public Builder setManager(NDManager manager) {
            this.manager = manager;
            return this;
        }

        /**
         * Sets the frozen teacher and the distiller; without them the step trains on CE only.
         *
         * @param teacher the initialised teacher; its parameters are frozen here
         * @param distiller the initialised distiller
         * @return this builder
         */
        public Builder optTeacher(DistillableNetwork teacher, Distiller distiller) {
            this.teacher = teacher;
            this.distiller = distiller;
            return this;
        }

        /**
         * Sets the weight of the cross-entropy term; default 1.
         *
         * @param ceWeight the weight, &gt;= 0
         * @return this builder
         */
        public Builder optCeWeight(double ceWeight) {
            this.ceWeight = ceWeight;
            return this;
        }

        /**
         * Sets the optimiser used by {@link #train}; not needed when a DJL {@code Trainer} drives
         * the step.
         *
         * @param optimizer the optimiser
         * @return this builder
         */
        public Builder optOptimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /**
         * Skips (no backward, update or afterStep) a step with a non-finite term; costs one host
         * copy per step. Default off.
         *
         * @param skip whether to skip
         * @return this builder
         */
        public Builder optSkipNonFinite(boolean skip) {
            this.skipNonFinite = skip;
            return this;
        }

        /**
         * Builds the step.
         *
         * @return the step
         */
        public DistillStep build() {
            if (net == null || manager == null) {
                throw new IllegalStateException("DistillStep needs setNetwork and setManager");
            }
            if ((teacher == null) != (distiller == null)) {
                throw new IllegalStateException("DistillStep: teacher and distiller go together");
            }
            if (!(ceWeight >= 0) || Double.isInfinite(ceWeight)) {
                throw new IllegalArgumentException(
                        "ce weight: got " + ceWeight + ", allowed: >= 0");
            }
            if (teacher != null) {
                teacher.freezeParameters(true);
            }
            return new DistillStep(this);
        }
    }
}
