package ai.crcd.core.crcd;

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
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Complementary Relation Contrastive Distillation (Zhu et al., CVPR 2021), as the paper defines it:
 *
 * <pre>
 * L = L_cls + alpha L_KD + beta1 L_RC^f + beta2 L_RC^g          (Eq. 17; L_cls is added by the loop)
 * </pre>
 *
 * with the feature element {@code f = pooled / ||pooled||} and the gradient element {@code g =
 * dL_cls/d pooled} (closed form, optionally l2-normalised). Each element has its own {@link
 * RelationContrastBlock} (M^T, M^{T,S}, h1, h2) and its own {@link RepresentationQueue} of N
 * student representations. Variants: {@code crcd} (both elements), {@code frcd} (feature only),
 * {@code grcd} (gradient only).
 *
 * <p>Loss terms returned by {@link #losses(DistillBatch)}, each already weighted: {@code kd} (when
 * alpha &gt; 0), {@code rc_feature}, {@code rc_gradient}. The gradient element needs both
 * classifier weights in the batch ({@link DistillBatch.Builder#optHeadWeights}).
 *
 * <p>See {@code docs/crcd.md} for the math as implemented and every choice the paper leaves open.
 */
public final class CrcdDistiller implements Distiller {

    /** A representation element. */
    public enum Element {
        /** The l2-normalised pooled feature. */
        FEATURE,
        /** The gradient of the classification loss w.r.t. the pooled feature. */
        GRADIENT
    }

    private final Builder cfg;
    private final List<Element> elements;
    private final RelationContrastiveLoss loss;
    private CrcdAuxiliaryBlock block;
    private final List<RepresentationQueue> queues = new ArrayList<>();
    private DistillBatch cachedBatch;
    private NDList cachedStudentReps;

    private CrcdDistiller(Builder b) {
        this.cfg = b;
        this.elements = new ArrayList<>(b.elements);
        this.loss = new RelationContrastiveLoss(b.loss, b.tau, b.margin, b.negativeWeight);
    }

    /**
     * Returns a builder with the paper's defaults (CRCD: both elements).
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code crcd}, {@code frcd} or {@code grcd} after the elements in use.
     *
     * @return the name
     */
    @Override
    public String name() {
        if (elements.size() == 2) {
            return "crcd";
        }
        return elements.get(0) == Element.FEATURE ? "frcd" : "grcd";
    }

    /**
     * Returns the elements in use, in order.
     *
     * @return the elements
     */
    public List<Element> elements() {
        return List.copyOf(elements);
    }

    /**
     * Returns the relation contrastive loss in use.
     *
     * @return the loss
     */
    public RelationContrastiveLoss loss() {
        return loss;
    }

    /**
     * Returns the buffer of one element.
     *
     * @param element the element
     * @return its buffer
     * @throws IllegalStateException before {@link #initialize} or for an element not in use
     */
    public RepresentationQueue buffer(Element element) {
        int i = elements.indexOf(element);
        if (i < 0 || queues.isEmpty()) {
            throw new IllegalStateException(
                    "no buffer for "
                            + element
                            + " (elements "
                            + elements
                            + ", initialised: "
                            + !queues.isEmpty()
                            + ")");
        }
        return queues.get(i);
    }

    /**
     * Creates the relation networks, critics (initialised as PyTorch's {@code nn.Linear} from the
     * engine's generator, see {@link ai.crcd.core.FanInUniformInitializer}) and buffers.
     *
     * @param manager a long-lived manager for the parameters and buffers
     * @param setup the teacher/student feature dims Dt, Ds; data set size for the random buffer
     */
    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        if (block != null) {
            throw new IllegalStateException("CrcdDistiller.initialize called twice");
        }
        int dt = setup.teacherDim();
        int ds = setup.studentDim();
        List<String> names = new ArrayList<>();
        List<RelationContrastBlock> blocks = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>();
        for (Element e : elements) {
            names.add(e.name().toLowerCase(Locale.ROOT));
            blocks.add(
                    new RelationContrastBlock(
                            dt, ds, cfg.relationDim, cfg.critic, cfg.criticDim, cfg.foldCritic));
            shapes.add(new Shape(2, dt));
            shapes.add(new Shape(2, ds));
            shapes.add(new Shape(cfg.negatives, ds));
            long seed = setup.seed() * 31 + e.ordinal();
            queues.add(
                    cfg.buffer == RepresentationQueue.Policy.QUEUE
                            ? RepresentationQueue.queue(
                                    manager, cfg.negatives, ds, setup.dataType())
                            : RepresentationQueue.random(
                                    manager,
                                    cfg.negatives,
                                    ds,
                                    setup.datasetSize(),
                                    seed,
                                    setup.dataType()));
        }
        block = new CrcdAuxiliaryBlock(names, blocks);
        block.initialize(manager, setup.dataType(), shapes.toArray(new Shape[0]));
    }

    /**
     * Returns the parent of all trainable CRCD parameters.
     *
     * @return the {@link CrcdAuxiliaryBlock}
     */
    @Override
    public Block auxiliaryBlock() {
        return block;
    }

    /**
     * Computes the weighted terms {@code kd}, {@code rc_feature}, {@code rc_gradient}.
     *
     * @param batch teacher output (logits (B, C), pooled (B, Dt)), student output (logits (B, C),
     *     pooled (B, Ds)), labels (B), the head weights (C, Dt), (C, Ds) for the gradient element
     * @return scalar terms
     */
    @Override
    public LossTerms losses(DistillBatch batch) {
        if (block == null) {
            throw new IllegalStateException("CrcdDistiller: call initialize(manager, setup) first");
        }
        NDManager step = batch.manager();
        FeatureOutput t = batch.teacher();
        FeatureOutput s = batch.student();
        NDList inputs = new NDList();
        NDList studentReps = new NDList();
        for (int e = 0; e < elements.size(); e++) {
            NDArray[] reps = representations(elements.get(e), batch); // teacher, student
            inputs.add(reps[0]);
            inputs.add(reps[1]);
            inputs.add(
                    loss.type().usesNegatives()
                            ? queues.get(e).negatives(step)
                            : step.zeros(
                                    new Shape(0, reps[1].getShape().get(1)),
                                    reps[1].getDataType()));
            studentReps.add(reps[1].stopGradient());
        }
        boolean fused = fusedNegatives();
        NDList out;
        if (fused) {
            // per element [u, v+, () RC's negative term], the negatives side chunked by hand
            out = new NDList();
            List<RelationContrastBlock> blocks = block.elements();
            for (int e = 0; e < elements.size(); e++) {
                out.addAll(
                        blocks.get(e)
                                .forwardRc(
                                        batch.parameterStore(),
                                        new NDList(inputs.subList(3 * e, 3 * e + 3)),
                                        batch.training(),
                                        cfg.tau,
                                        cfg.negativeWeight));
            }
        } else {
            out = block.forward(batch.parameterStore(), inputs, batch.training());
        }

        LossTerms terms = new LossTerms();
        if (cfg.alpha > 0) {
            terms.put(
                    "kd",
                    KdLoss.compute(
                            s.logits(), t.logits().stopGradient(), cfg.kdTemperature, cfg.alpha));
        }
        for (int e = 0; e < elements.size(); e++) {
            NDArray rc =
                    fused
                            ? loss.compute(out.get(3 * e), out.get(3 * e + 1), null)
                                    .add(out.get(3 * e + 2))
                            : loss.compute(out.get(3 * e), out.get(3 * e + 1), out.get(3 * e + 2));
            double beta = elements.get(e) == Element.FEATURE ? cfg.betaFeature : cfg.betaGradient;
            terms.put(
                    "rc_" + elements.get(e).name().toLowerCase(Locale.ROOT), Scalars.mul(rc, beta));
        }
        if (batch.training()) {
            cachedBatch = batch;
            cachedStudentReps = studentReps;
        }
        return terms;
    }

    /**
     * Returns whether RC's negative term is computed by {@link RcNegativesHead} (fast path: RC
     * loss, folded linear critic, {@code fast_path} on).
     */
    private boolean fusedNegatives() {
        return cfg.fastPath
                && loss.type() == RelationContrastiveLoss.Type.RC
                && cfg.foldCritic
                && cfg.critic == CriticHead.Type.LINEAR;
    }

    /** Returns [teacher (B, Dt) detached, student (B, Ds)] representations of one element. */
    private NDArray[] representations(Element element, DistillBatch batch) {
        FeatureOutput t = batch.teacher();
        FeatureOutput s = batch.student();
        if (element == Element.FEATURE) {
            return new NDArray[] {
                FeatureElement.compute(t.pooled().stopGradient()),
                FeatureElement.compute(s.pooled())
            };
        }
        if (batch.teacherHeadWeight() == null || batch.studentHeadWeight() == null) {
            throw new IllegalArgumentException(
                    name()
                            + ": the gradient element needs both classifier weights; build the"
                            + " DistillBatch with optHeadWeights(teacherW (C, Dt), studentW (C, Ds))"
                            + " or use method 'frcd'");
        }
        NDArray gt =
                GradientElement.compute(
                        t.logits().stopGradient(),
                        batch.labels(),
                        batch.teacherHeadWeight().stopGradient()); // (B, Dt)
        NDArray gs =
                GradientElement.compute(
                        s.logits(), batch.labels(), batch.studentHeadWeight()); // (B, Ds)
        if (cfg.normalizeGradient) {
            gt = FeatureElement.l2Normalize(gt);
            gs = FeatureElement.l2Normalize(gs);
        }
        return new NDArray[] {gt, gs};
    }

    /**
     * Pushes the batch's student representations (as computed in {@link #losses}) into the buffers.
     * Does nothing for an evaluation batch.
     *
     * @param batch the batch just optimised
     */
    @Override
    public void afterStep(DistillBatch batch) {
        if (!batch.training()) {
            return;
        }
        NDList reps;
        if (batch == cachedBatch) {
            reps = cachedStudentReps;
        } else {
            reps = new NDList();
            for (Element e : elements) {
                reps.add(representations(e, batch)[1].stopGradient());
            }
        }
        for (int e = 0; e < elements.size(); e++) {
            queues.get(e).update(reps.get(e), batch.indices());
        }
        cachedBatch = null;
        cachedStudentReps = null;
    }

    /**
     * Returns the buffers and their counters, two arrays per element in element order.
     *
     * @return [buffer, counters] per element (see {@link RepresentationQueue#state()})
     */
    @Override
    public NDList state() {
        NDList out = new NDList();
        for (int e = 0; e < elements.size(); e++) {
            NDList st = queues.get(e).state();
            String n = elements.get(e).name().toLowerCase(Locale.ROOT);
            st.get(0).setName(n + "_buffer");
            st.get(1).setName(n + "_counters");
            out.addAll(st);
        }
        return out;
    }

    /**
     * Restores {@link #state()}.
     *
     * @param state two arrays per element
     */
    @Override
    public void loadState(NDList state) {
        if (state.size() != 2 * elements.size()) {
            throw new IllegalArgumentException(
                    name()
                            + " state: expected "
                            + 2 * elements.size()
                            + " arrays (buffer, counters per element "
                            + elements
                            + "), got "
                            + state.size());
        }
        for (int e = 0; e < elements.size(); e++) {
            queues.get(e).loadState(new NDList(state.get(2 * e), state.get(2 * e + 1)));
        }
    }

    /**
     * Estimates one training step's extra memory, per element (float32 unless the setup says
     * otherwise): the buffer N x Ds and its counters; the anchor side's and the positives' hidden
     * relations B x B x R each, kept for backward (x2 with their gradient, x2 more without folding,
     * where the output map and the critic keep their own copies); their critic outputs B x B x C
     * each (x4: product, normalised, gradients). The negatives side depends on the path:
     *
     * <ul>
     *   <li>fused ({@code fast_path}, RC with a folded linear critic, {@link RcNegativesHead}):
     *       nothing of the (B, N) side is kept; the projected negatives N x R (x2 with their
     *       gradient) and one chunk's temporaries (about 4 hidden-size arrays of min(B N R, 1M)
     *       values, 2 of their C-wide outputs, 6 chunks of scores B x B x Nc);
     *   <li>autograd: the hidden relations B x N x R (x2, x4 unfolded), the critic outputs B x N x
     *       C (x4) and the scores B x B x N (x10: the loss's element-wise chain and gradients).
     * </ul>
     *
     * @param setup the dims Dt, Ds
     * @param batchSize B
     * @return bytes, saturated at {@link Long#MAX_VALUE}
     */
    @Override
    public long estimateStepBytes(DistillSetup setup, int batchSize) {
        double b = batchSize;
        double n = cfg.negatives;
        double r = cfg.relationDim;
        double c = cfg.critic == CriticHead.Type.IDENTITY ? cfg.relationDim : cfg.criticDim;
        boolean folded = cfg.foldCritic && cfg.critic == CriticHead.Type.LINEAR;
        double hiddenCopies = folded ? 2 : 4;
        double perElement =
                n * setup.studentDim()
                        + n * 2 // the counters (int64)
                        + 2 * b * b * r * hiddenCopies // anchor side and positives
                        + 2 * b * b * c * 4;
        if (fusedNegatives()) {
            double chunk = Math.min(b * n * r, RcNegativesHead.CHUNK_ELEMENTS);
            double perChunk = Math.max(1, Math.floor(chunk / (b * r))); // negatives per chunk
            perElement += n * r * 2 + 4 * chunk + 2 * chunk * c / r + 6 * b * b * perChunk;
        } else {
            perElement +=
                    b * n * r * hiddenCopies
                            + b * n * c * 4
                            + (loss.type().usesNegatives() ? b * b * n * 10 : 0);
        }
        double total = perElement * elements.size() * setup.dataType().getNumOfBytes();
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    /** Releases the buffers. */
    @Override
    public void close() {
        queues.forEach(RepresentationQueue::close);
    }

    /** Builder with the paper's defaults; {@code opt*} setters only. */
    public static final class Builder {
        private Set<Element> elements = EnumSet.allOf(Element.class);
        private double alpha = 1.0;
        private double betaFeature = 0.5;
        private double betaGradient = 0.5;
        private double tau = 0.05;
        private int negatives = 500;
        private int relationDim = 256;
        private CriticHead.Type critic = CriticHead.Type.LINEAR;
        private int criticDim = 128;
        private RelationContrastiveLoss.Type loss = RelationContrastiveLoss.Type.RC;
        private double margin = 0.4;
        private double negativeWeight = 1.0;
        private RepresentationQueue.Policy buffer = RepresentationQueue.Policy.QUEUE;
        private boolean normalizeGradient = true;
        private double kdTemperature = 4.0;
        private boolean foldCritic = true;
        private boolean fastPath = true;

        Builder() {}

        /**
         * Sets the elements; default both (CRCD).
         *
         * @param first an element
         * @param rest more elements
         * @return this builder
         */
        public Builder optElements(Element first, Element... rest) {
            this.elements = EnumSet.of(first, rest);
            return this;
        }

        /**
         * Sets alpha, the weight of the KD term; default 1. 0 leaves the term out.
         *
         * @param alpha alpha &gt;= 0
         * @return this builder
         */
        public Builder optAlpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        /**
         * Sets beta1, the weight of L_RC^f; default 0.5.
         *
         * @param beta beta1
         * @return this builder
         */
        public Builder optBetaFeature(double beta) {
            this.betaFeature = beta;
            return this;
        }

        /**
         * Sets beta2, the weight of L_RC^g; default 0.5.
         *
         * @param beta beta2
         * @return this builder
         */
        public Builder optBetaGradient(double beta) {
            this.betaGradient = beta;
            return this;
        }

        /**
         * Sets the critic temperature tau; default 0.05.
         *
         * @param tau tau &gt; 0
         * @return this builder
         */
        public Builder optTau(double tau) {
            this.tau = tau;
            return this;
        }

        /**
         * Sets N, the number of negatives (buffer capacity); default 500.
         *
         * @param n N &gt; 0
         * @return this builder
         */
        public Builder optNegatives(int n) {
            this.negatives = n;
            return this;
        }

        /**
         * Sets the relation dimension R of M^T and M^{T,S}; default 256.
         *
         * @param dim R
         * @return this builder
         */
        public Builder optRelationDim(int dim) {
            this.relationDim = dim;
            return this;
        }

        /**
         * Sets the critic transformation; default linear.
         *
         * @param type the type
         * @return this builder
         */
        public Builder optCritic(CriticHead.Type type) {
            this.critic = type;
            return this;
        }

        /**
         * Sets the critic dimension C; default 128.
         *
         * @param dim C
         * @return this builder
         */
        public Builder optCriticDim(int dim) {
            this.criticDim = dim;
            return this;
        }

        /**
         * Sets the contrastive loss; default RC (Eq. 9).
         *
         * @param type the loss
         * @return this builder
         */
        public Builder optLoss(RelationContrastiveLoss.Type type) {
            this.loss = type;
            return this;
        }

        /**
         * Sets the triplet margin m; default 0.4.
         *
         * @param margin m
         * @return this builder
         */
        public Builder optMargin(double margin) {
            this.margin = margin;
            return this;
        }

        /**
         * Sets the factor of RC's negative sum; default 1 (plain sum over the N negatives).
         *
         * @param weight w &gt;= 0
         * @return this builder
         */
        public Builder optNegativeWeight(double weight) {
            this.negativeWeight = weight;
            return this;
        }

        /**
         * Sets the buffer policy; default queue.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder optBuffer(RepresentationQueue.Policy policy) {
            this.buffer = policy;
            return this;
        }

        /**
         * Sets whether the gradient element is l2-normalised; default {@code true}.
         *
         * @param normalize the flag
         * @return this builder
         */
        public Builder optNormalizeGradient(boolean normalize) {
            this.normalizeGradient = normalize;
            return this;
        }

        /**
         * Sets the KD temperature rho; default 4.
         *
         * @param temperature rho &gt; 0
         * @return this builder
         */
        public Builder optKdTemperature(double temperature) {
            this.kdTemperature = temperature;
            return this;
        }

        /**
         * Sets whether a linear critic is folded into the relation output map; default {@code
         * true}. Changes the cost, not the value.
         *
         * @param fold the flag
         * @return this builder
         */
        public Builder optFoldCritic(boolean fold) {
            this.foldCritic = fold;
            return this;
        }

        /**
         * Sets whether, with the RC loss and a folded linear critic, RC's negative term and its
         * gradients are computed chunk by chunk with a hand-derived backward ({@link
         * RcNegativesHead}) instead of by autograd over the whole negatives side; default {@code
         * true}. Same value and gradients; changes the cost and the memory kept for backward.
         *
         * @param fast the flag
         * @return this builder
         */
        public Builder optFastPath(boolean fast) {
            this.fastPath = fast;
            return this;
        }

        /**
         * Builds the distiller.
         *
         * @return a new, uninitialised distiller
         * @throws IllegalArgumentException for a value out of range
         */
        public CrcdDistiller build() {
            check(alpha >= 0, "alpha", alpha, ">= 0");
            check(betaFeature >= 0, "beta_feature", betaFeature, ">= 0");
            check(betaGradient >= 0, "beta_gradient", betaGradient, ">= 0");
            check(tau > 0, "tau", tau, "> 0");
            check(negatives > 0, "negatives", negatives, "> 0");
            check(relationDim > 0, "relation_dim", relationDim, "> 0");
            check(criticDim > 0, "critic_dim", criticDim, "> 0");
            check(margin >= 0, "margin", margin, ">= 0");
            check(negativeWeight >= 0, "negative_weight", negativeWeight, ">= 0");
            check(kdTemperature > 0, "kd_temperature", kdTemperature, "> 0");
            return new CrcdDistiller(this);
        }

        private static void check(boolean ok, String key, Object value, String allowed) {
            if (!ok) {
                throw new IllegalArgumentException(
                        "crcd option " + key + ": got " + value + ", allowed: " + allowed);
            }
        }
    }

    /**
     * Factory for {@code crcd}, {@code frcd} and {@code grcd}. Option keys (snake_case): {@code
     * alpha, beta_feature, beta_gradient, tau, negatives, relation_dim, critic
     * (identity|linear|mlp), critic_dim, loss (rc|nce|triplet|logistic|l2), margin,
     * negative_weight, buffer (queue|random), normalize_gradient, kd_temperature, fold_critic,
     * fast_path}; {@code beta_feature} is rejected for grcd, {@code beta_gradient} and {@code
     * normalize_gradient} for frcd.
     */
    public static final class Factory implements DistillerFactory {

        /**
         * Returns the names.
         *
         * @return crcd, frcd, grcd
         */
        @Override
        public List<String> names() {
            return List.of("crcd", "frcd", "grcd");
        }

        /**
         * Creates the distiller.
         *
         * @param name crcd, frcd or grcd
         * @param o the options
         * @return the distiller
         */
        @Override
        public Distiller create(String name, DistillerOptions o) {
            Builder b = builder();
            boolean feature = !"grcd".equals(name);
            boolean gradient = !"frcd".equals(name);
            if (feature && gradient) {
                b.optElements(Element.FEATURE, Element.GRADIENT);
            } else {
                b.optElements(feature ? Element.FEATURE : Element.GRADIENT);
            }
            b.optAlpha(o.getDouble("alpha", 1.0, 0));
            if (feature) {
                b.optBetaFeature(o.getDouble("beta_feature", 0.5, 0));
            }
            if (gradient) {
                b.optBetaGradient(o.getDouble("beta_gradient", 0.5, 0));
                b.optNormalizeGradient(o.getBoolean("normalize_gradient", true));
            }
            b.optTau(o.getPositiveDouble("tau", 0.05));
            b.optNegatives(o.getInt("negatives", 500, 1));
            b.optRelationDim(o.getInt("relation_dim", 256, 1));
            b.optCritic(
                    CriticHead.Type.of(
                            o.getChoice("critic", "linear", "identity", "linear", "mlp")));
            b.optCriticDim(o.getInt("critic_dim", 128, 1));
            b.optLoss(
                    RelationContrastiveLoss.Type.of(
                            o.getChoice("loss", "rc", "rc", "nce", "triplet", "logistic", "l2")));
            b.optMargin(o.getDouble("margin", 0.4, 0));
            b.optNegativeWeight(o.getDouble("negative_weight", 1.0, 0));
            b.optBuffer(
                    RepresentationQueue.Policy.of(
                            o.getChoice("buffer", "queue", "queue", "random")));
            b.optKdTemperature(o.getPositiveDouble("kd_temperature", 4.0));
            b.optFoldCritic(o.getBoolean("fold_critic", true));
            b.optFastPath(o.getBoolean("fast_path", true));
            o.checkNoUnknownKeys();
            return b.build();
        }
    }
}
