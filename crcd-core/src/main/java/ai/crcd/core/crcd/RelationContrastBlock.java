package ai.crcd.core.crcd;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
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
    private NDList foldedForward(
            ParameterStore ps,
            NDArray teacher,
            NDArray student,
            NDArray negatives,
            boolean training) {
        long batch = teacher.getShape().get(0);
        long numNeg = negatives.getShape().get(0);
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
     * Computes {@code normalise(relu(A_p - S_q) (W V) + (c V + e))} for all pairs with as few
     * passes over the (P, Q, R) hidden relations as DJL allows: {@code A} gets a column of ones and
     * {@code -S} a column of zeros, so the hidden relations carry a constant 1 and the bias {@code
     * c V + e} is the last row of the folded weight (one 2-D GEMM, no bias pass over (P*Q, C)); S
     * is negated on its small side so that the backward of the pairwise difference needs no
     * negation of the large gradient; the samples are processed in chunks of at most {@link
     * #CHUNK_ELEMENTS} hidden values, the outputs concatenated.
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
        NDArray weight = foldedWeight(ps, relation, critic, dev, step, training); // (R + 1, C)
        NDArray a1 =
                anchors.concat(step.ones(new Shape(p, 1), anchors.getDataType()), 1); // (P, R+1)
        NDArray s1 =
                samples.neg()
                        .concat(step.zeros(new Shape(q, 1), samples.getDataType()), 1); // (Q, R+1)
        long cdim = weight.getShape().get(1);
        long chunk = Math.max(1, chunkElements / (p * (r + 1))); // samples per chunk
        if (q <= chunk) {
            return foldedChunk(a1, s1, weight).reshape(p, q, cdim); // (P, Q, C)
        }
        NDList parts = new NDList();
        for (long start = 0; start < q; start += chunk) {
            long end = Math.min(q, start + chunk);
            NDArray part = s1.get(new NDIndex("{}:{}", start, end)); // (Qc, R + 1)
            parts.add(foldedChunk(a1, part, weight).reshape(p, end - start, cdim)); // (P, Qc, C)
        }
        return NDArrays.concat(parts, 1); // (P, Q, C)
    }

    /**
     * Largest hidden-relation tensor built at once, in elements (2 MB in float32). One (64, 500,
     * 257) tensor is 33 MB: above glibc's largest mmap threshold (32 MB) every such allocation is a
     * fresh mmap with page faults, and it streams through memory on every elementwise pass; chunks
     * of about 2 MB stay in the allocator's heap and in cache. Measured on 2 cores: the loss's
     * forward + backward about 2x faster than unchunked (1 MB to 2 MB best; 0.25 MB slower again).
     */
    private static final long CHUNK_ELEMENTS = 512L * 1024;

    /** (P, R+1) anchors with the ones column, (Q, R+1) negated samples with a zero column. */
    private static NDArray foldedChunk(NDArray a1, NDArray s1, NDArray weight) {
        long p = a1.getShape().get(0);
        long q = s1.getShape().get(0);
        long r1 = a1.getShape().get(1);
        NDArray hidden = Activation.relu(a1.expandDims(1).add(s1.expandDims(0))); // (P, Q, R + 1)
        NDArray out = hidden.reshape(p * q, r1).matMul(weight); // (P * Q, C)
        return FeatureElement.l2Normalize(out); // (P * Q, C)
    }

    /**
     * The relation's output map folded into the linear critic: rows 0..R-1 are {@code W V}, row R
     * is {@code c V + e} (so {@code h2(W x + c) = [x, 1] . weight} before normalisation).
     *
     * @return (R + 1, C), in the step's manager
     */
    private static NDArray foldedWeight(
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
        NDArray cv = c2.matMul(v).add(e); // (1, C)
        return wv.concat(cv, 0); // (R + 1, C)
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
            long r = hidden.getShape().get(2);
            NDList wc =
                    foldedWeight(ps, relation, critic, dev, hidden.getManager(), training)
                            .split(new long[] {r}, 0); // (R, C), (1, C)
            return FeatureElement.l2Normalize(hidden.matMul(wc.get(0)).add(wc.get(1))); // (P, Q, C)
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
