package ai.crcd.core.crcd;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Everything trainable that one CRCD element (feature or gradient) needs: the relation networks
 * {@code M^T} and {@code M^{T,S}} and the critic heads {@code h1}, {@code h2}. It turns the teacher
 * and student representations of a batch and the buffer's negatives into the critic embeddings of
 * the anchor, positive and negative relations (Sec. 3.3):
 *
 * <pre>
 * u_ij   = h1(M^T(t_i, t_j))        all B*B pairs               (B, B, C)
 * v+_ij  = h2(M^{T,S}(t_i, s_j))    all B*B pairs               (B, B, C)
 * v-_ik  = h2(M^{T,S}(t_i, q_k))    B*N, shared by every j      (B, N, C)
 * </pre>
 *
 * <p>The student samples and the negatives go through {@code M^{T,S}} in one pass (the sample side
 * is the concatenation [s; q]), and when both {@code h} and the relation output map are linear and
 * folding is on, {@code h(M(.)) = normalise(relu(..) (W V) + (c V + e))}: the two matrices are
 * multiplied once per step (R x R x C) instead of applying two maps to all B*(B+N) hidden
 * relations. Folding changes no value, only the cost.
 */
public class RelationContrastBlock extends AbstractBlock {

    private final RelationBlock teacherRelation;
    private final RelationBlock crossRelation;
    private final CriticHead teacherCritic;
    private final CriticHead crossCritic;
    private final boolean fold;

    /**
     * Creates the block.
     *
     * @param teacherDim Dt, the teacher representation's dimension
     * @param studentDim Ds, the student representation's dimension
     * @param relationDim R, relation dimension (256 in the paper)
     * @param critic the critic transformation (linear in the paper)
     * @param criticDim C, the critic dimension (128 in the paper; ignored for identity)
     * @param foldCritic whether to fold a linear critic into the relation output map
     */
    public RelationContrastBlock(
            int teacherDim,
            int studentDim,
            int relationDim,
            CriticHead.Type critic,
            int criticDim,
            boolean foldCritic) {
        teacherRelation =
                addChildBlock(
                        "teacher_relation", new RelationBlock(teacherDim, teacherDim, relationDim));
        crossRelation =
                addChildBlock(
                        "cross_relation", new RelationBlock(teacherDim, studentDim, relationDim));
        teacherCritic =
                addChildBlock("teacher_critic", new CriticHead(critic, relationDim, criticDim));
        crossCritic = addChildBlock("cross_critic", new CriticHead(critic, relationDim, criticDim));
        this.fold = foldCritic;
    }

    /**
     * Returns M^T.
     *
     * @return the teacher-space relation network
     */
    public RelationBlock teacherRelation() {
        return teacherRelation;
    }

    /**
     * Returns M^{T,S}.
     *
     * @return the cross-space relation network
     */
    public RelationBlock crossRelation() {
        return crossRelation;
    }

    /**
     * Returns h1.
     *
     * @return the critic head of the teacher relation
     */
    public CriticHead teacherCritic() {
        return teacherCritic;
    }

    /**
     * Returns h2.
     *
     * @return the critic head of the cross relations
     */
    public CriticHead crossCritic() {
        return crossCritic;
    }

    /**
     * Returns whether linear critics are folded into the relation output map.
     *
     * @return the folding flag
     */
    public boolean folds() {
        return fold && teacherCritic.type() == CriticHead.Type.LINEAR;
    }

    /**
     * Forward pass.
     *
     * @param ps the parameter store
     * @param inputs [teacher (B, Dt) no gradient, student (B, Ds), negatives (N, Ds) no gradient; N
     *     may be 0]
     * @param training whether training
     * @param params unused
     * @return [u (B, B, C), v+ (B, B, C), v- (B, N, C)], unit vectors
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() != 3) {
            throw new IllegalArgumentException(
                    "RelationContrastBlock takes [teacher (B, Dt), student (B, Ds), negatives (N,"
                            + " Ds)], got "
                            + inputs.size()
                            + " arrays");
        }
        NDArray teacher = inputs.get(0).stopGradient(); // (B, Dt), defensive: teacher is frozen
        NDArray student = inputs.get(1); // (B, Ds)
        NDArray negatives = inputs.get(2).stopGradient(); // (N, Ds)
        long batch = teacher.getShape().get(0);
        long numNeg = negatives.getShape().get(0);

        if (folds()) {
            return foldedForward(ps, teacher, student, negatives, training);
        }
        NDArray hiddenT =
                RelationBlock.hidden(
                        teacherRelation.projectAnchors(ps, teacher, training),
                        teacherRelation.projectSamples(ps, teacher, training)); // (B, B, R)
        NDArray u = head(ps, hiddenT, teacherRelation, teacherCritic, training); // (B, B, C)

        NDArray samples = numNeg == 0 ? student : student.concat(negatives, 0); // (B + N, Ds)
        NDArray hiddenC =
                RelationBlock.hidden(
                        crossRelation.projectAnchors(ps, teacher, training),
                        crossRelation.projectSamples(ps, samples, training)); // (B, B + N, R)
        NDArray v = head(ps, hiddenC, crossRelation, crossCritic, training); // (B, B + N, C)
        if (numNeg == 0) {
            long c = v.getShape().get(2);
            return new NDList(u, v, v.getManager().zeros(new Shape(batch, 0, c), v.getDataType()));
        }
        NDList parts = v.split(new long[] {batch}, 1);
        return new NDList(u, parts.get(0), parts.get(1)); // (B, B, C), (B, N, C)
    }

    /**
     * The folded path, same values as the unfolded one up to float rounding, shaped for speed on
     * the large (B, B + N, R) side: the positives and the negatives go through M^{T,S} separately
     * (no concatenation of the samples, no split of the output and no concatenation of its
     * gradient), and the folded bias rides inside the GEMM.
     */
    /**
     * The folded path's parts shared by {@link #foldedForward} and {@link #forwardRc}: the teacher
     * relations through h1, the cross anchors, and the positives through h2.
     *
     * @return [u (B, B, C), cross anchors (B, R), positives (B, B, C)]
     */
    private NDArray[] foldedAnchorsAndPositives(
            ParameterStore ps, NDArray teacher, NDArray student, boolean training) {
        NDArray u =
                foldedHead(
                        ps,
                        teacherRelation,
                        teacherCritic,
                        teacherRelation.projectAnchors(ps, teacher, training),
                        teacherRelation.projectSamples(ps, teacher, training),
                        training); // (B, B, C)
        NDArray anchors = crossRelation.projectAnchors(ps, teacher, training); // (B, R)
        NDArray positives =
                foldedHead(
                        ps,
                        crossRelation,
                        crossCritic,
                        anchors,
                        crossRelation.projectSamples(ps, student, training),
                        training); // (B, B, C)
        return new NDArray[] {u, anchors, positives};
    }

    private NDList foldedForward(
            ParameterStore ps,
            NDArray teacher,
            NDArray student,
            NDArray negatives,
            boolean training) {
        long batch = teacher.getShape().get(0);
        long numNeg = negatives.getShape().get(0);
        NDArray[] head = foldedAnchorsAndPositives(ps, teacher, student, training);
        NDArray u = head[0]; // (B, B, C)
        NDArray anchors = head[1]; // (B, R)
        NDArray positives = head[2]; // (B, B, C)
        NDArray negs;
        if (numNeg == 0) {
            long c = positives.getShape().get(2);
            negs = positives.getManager().zeros(new Shape(batch, 0, c), positives.getDataType());
        } else {
            negs =
                    foldedHead(
                            ps,
                            crossRelation,
                            crossCritic,
                            anchors,
                            crossRelation.projectSamples(ps, negatives, training),
                            training); // (B, N, C)
        }
        return new NDList(u, positives, negs);
    }

    /**
     * The folded forward pass fused with RC's negative term (the default training path of CRCD with
     * the RC loss): u and v+ as {@link #forward}, and instead of v- (B, N, C) the term {@code -(w /
     * (B B)) sum_ijk log(1 - h(u_ij . v-_ik))} with its gradients computed chunk by chunk by {@link
     * RcNegativesHead}, so that nothing of the (B, N, R) hidden relations or the (B, B, N) scores
     * is kept for backward. Same value and gradients as {@code RelationContrastiveLoss} of type RC
     * on {@link #forward}'s outputs (see {@code RcNegativesHeadTest}).
     *
     * @param ps the parameter store
     * @param inputs [teacher (B, Dt), student (B, Ds), negatives (N, Ds); N may be 0]
     * @param training whether training (else the negative term's gradients are not computed)
     * @param tau the temperature
     * @param negativeWeight w, factor of RC's negative sum
     * @return [u (B, B, C), v+ (B, B, C), () RC's negative term (0 without negatives or for w = 0)]
     * @throws IllegalStateException when the critic is not folded ({@link #folds()})
     */
    public NDList forwardRc(
            ParameterStore ps, NDList inputs, boolean training, double tau, double negativeWeight) {
        return forwardRc(ps, inputs, training, tau, negativeWeight, RcNegativesHead.CHUNK_ELEMENTS);
    }

    /** {@link #forwardRc} with a given chunk size (package-private for tests). */
    NDList forwardRc(
            ParameterStore ps,
            NDList inputs,
            boolean training,
            double tau,
            double negativeWeight,
            long chunkElements) {
        if (!folds()) {
            throw new IllegalStateException(
                    "RelationContrastBlock.forwardRc needs a folded linear critic (fold_critic:"
                            + " true, critic: linear)");
        }
        NDArray teacher = inputs.get(0).stopGradient(); // (B, Dt)
        NDArray student = inputs.get(1); // (B, Ds)
        NDArray negatives = inputs.get(2).stopGradient(); // (N, Ds)
        long numNeg = negatives.getShape().get(0);
        NDArray[] head = foldedAnchorsAndPositives(ps, teacher, student, training);
        NDArray u = head[0]; // (B, B, C)
        NDArray anchors = head[1]; // (B, R)
        NDArray positives = head[2]; // (B, B, C)
        NDArray term;
        if (numNeg == 0 || negativeWeight == 0) {
            term = u.getManager().zeros(new Shape(), u.getDataType()); // ()
        } else {
            NDArray[] folded =
                    foldedWeight(
                            ps,
                            crossRelation,
                            crossCritic,
                            u.getDevice(),
                            u.getManager(),
                            training); // (C, R), (C)
            term =
                    RcNegativesHead.compute(
                            u,
                            anchors,
                            crossRelation.projectSamples(ps, negatives, training), // (N, R)
                            folded[0],
                            folded[1],
                            tau,
                            negativeWeight,
                            training,
                            chunkElements); // ()
        }
        return new NDList(u, positives, term);
    }

    /**
     * Computes {@code normalise(relu(A_p - S_q) (W V) + (c V + e))} for all pairs with as few
     * passes over the (P, Q, R) hidden relations as DJL allows: S is negated on its small side (so
     * that the backward of the pairwise difference needs no negation of the large gradient); the
     * samples are split (one split, whose backward is one concatenation) into chunks of at most
     * {@link #CHUNK_ELEMENTS} hidden values; per chunk one broadcast add, one ReLU and one fused
     * GEMM with bias ({@code linear}, libtorch's addmm: the folded bias {@code c V + e} rides in
     * the GEMM, and the GEMM's inner dimension is R itself, not R + 1 as with a column of ones,
     * which misaligns every row of the large operand); the outputs are concatenated.
     *
     * @param anchors (P, R) projected anchors {@code a W_a + b_a}
     * @param samples (Q, R) projected samples {@code b W_b}
     * @return (P, Q, C) unit vectors
     */
    private static NDArray foldedHead(
            ParameterStore ps,
            RelationBlock relation,
            CriticHead critic,
            NDArray anchors,
            NDArray samples,
            boolean training) {
        return foldedHead(ps, relation, critic, anchors, samples, training, CHUNK_ELEMENTS);
    }

    /** {@link #foldedHead} with a given chunk size in elements (package-private for tests). */
    static NDArray foldedHead(
            ParameterStore ps,
            RelationBlock relation,
            CriticHead critic,
            NDArray anchors,
            NDArray samples,
            boolean training,
            long chunkElements) {
        Device dev = anchors.getDevice();
        NDManager step = anchors.getManager();
        long p = anchors.getShape().get(0);
        long q = samples.getShape().get(0);
        long r = anchors.getShape().get(1);
        NDArray[] folded = foldedWeight(ps, relation, critic, dev, step, training);
        NDArray weight = folded[0]; // (C, R)
        NDArray bias = folded[1]; // (C)
        long cdim = weight.getShape().get(0);
        NDArray a = anchors.expandDims(1); // (P, 1, R)
        NDArray negated = samples.neg(); // (Q, R)
        long chunk = Math.max(1, chunkElements / (p * r)); // samples per chunk
        if (q <= chunk) {
            return foldedChunk(a, negated, weight, bias).reshape(p, q, cdim); // (P, Q, C)
        }
        long[] cuts = new long[(int) ((q - 1) / chunk)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (i + 1) * chunk;
        }
        NDList parts = new NDList();
        for (NDArray part : negated.split(cuts, 0)) { // (Qc, R) each
            long qc = part.getShape().get(0);
            parts.add(foldedChunk(a, part, weight, bias).reshape(p, qc, cdim)); // (P, Qc, C)
        }
        return NDArrays.concat(parts, 1); // (P, Q, C)
    }

    /**
     * Largest hidden-relation tensor built at once, in elements (2 MB in float32). One (64, 500,
     * 256) tensor is 33 MB: above glibc's largest mmap threshold (32 MB) every such allocation is a
     * fresh mmap with page faults, and it streams through memory on every elementwise pass; chunks
     * of about 2 MB stay in the allocator's heap and in cache. Measured on 2 cores: the loss's
     * forward + backward about 2x faster than unchunked (1 MB to 2 MB best; 0.25 MB slower again).
     */
    private static final long CHUNK_ELEMENTS = 512L * 1024;

    /** (P, 1, R) anchors, (Qc, R) negated samples, (C, R) weight, (C) bias -> (P * Qc, C). */
    private static NDArray foldedChunk(NDArray a, NDArray negated, NDArray weight, NDArray bias) {
        long p = a.getShape().get(0);
        long q = negated.getShape().get(0);
        long r = a.getShape().get(2);
        NDArray hidden = Activation.relu(a.add(negated.expandDims(0))).reshape(p * q, r); // (PQ, R)
        NDArray out = hidden.getNDArrayInternal().linear(hidden, weight, bias).singletonOrThrow();
        return FeatureElement.l2Normalize(out); // (P * Qc, C)
    }

    /**
     * The relation's output map folded into the linear critic: {@code h2(x W + c) = x (W V) + (c V
     * + e)}.
     *
     * @return [(W V)^T (C, R) as {@code linear} takes it, c V + e (C)], in the step's manager
     */
    private static NDArray[] foldedWeight(
            ParameterStore ps,
            RelationBlock relation,
            CriticHead critic,
            Device dev,
            NDManager step,
            boolean training) {
        NDArray w = relation.outputWeight(ps, dev, training); // (R, R)
        NDArray c = relation.outputBias(ps, dev, training); // (R)
        NDArray v = critic.linearWeight(ps, dev, training); // (R, C)
        NDArray e = critic.linearBias(ps, dev, training); // (C)
        NDArray wv = w.matMul(v); // (R, C)
        wv.attach(step); // parameters come first here: move the result off their manager
        NDArray c2 = c.expandDims(0); // (1, R)
        c2.attach(step);
        NDArray cv = c2.matMul(v).add(e).reshape(-1); // (C)
        return new NDArray[] {wv.transpose(), cv};
    }

    /** Applies the relation's output map and the critic to hidden relations (P, Q, R). */
    private NDArray head(
            ParameterStore ps,
            NDArray hidden,
            RelationBlock relation,
            CriticHead critic,
            boolean training) {
        Device dev = hidden.getDevice();
        if (fold && critic.type() == CriticHead.Type.LINEAR) {
            NDArray[] wc = foldedWeight(ps, relation, critic, dev, hidden.getManager(), training);
            // (P, Q, C)
            return FeatureElement.l2Normalize(hidden.matMul(wc[0].transpose()).add(wc[1]));
        }
        NDArray w = relation.outputWeight(ps, dev, training); // (R, R)
        NDArray c = relation.outputBias(ps, dev, training); // (R)
        return critic.apply(ps, hidden.matMul(w).add(c), training); // (P, Q, C)
    }

    /**
     * Returns the output shapes.
     *
     * @param inputShapes [(B, Dt), (B, Ds), (N, Ds)]
     * @return [(B, B, C), (B, B, C), (B, N, C)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        long b = inputShapes[0].get(0);
        long n = inputShapes[2].get(0);
        long c = crossCritic.outputDim();
        return new Shape[] {new Shape(b, b, c), new Shape(b, b, c), new Shape(b, n, c)};
    }

    /**
     * Initialises the four children.
     *
     * @param manager the manager
     * @param dataType the data type
     * @param inputShapes [(B, Dt), (B, Ds), (N, Ds)]
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape t = inputShapes[0];
        Shape s = inputShapes[1];
        long b = t.get(0);
        Shape rel = new Shape(b, b, teacherRelation.relationDim());
        teacherRelation.initialize(manager, dataType, t, t);
        crossRelation.initialize(manager, dataType, t, s);
        teacherCritic.initialize(manager, dataType, rel);
        crossCritic.initialize(manager, dataType, rel);
    }
}
