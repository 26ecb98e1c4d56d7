package ai.crcd.core.crcd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import java.util.Locale;

/**
 * The relation contrastive loss of CRCD (Eq. 9, Tab. 3) and the ablation losses of Tab. 3/4, on the
 * critic embeddings of anchor u, positive v+ and negatives v- (unit vectors). With the scores
 * {@code s+ = u.v+} and {@code s-_k = u.v-_k} (clamped to at most 1), per anchor/positive pair:
 *
 * <pre>
 * RC        -log h(s+) - w * sum_k log(1 - h(s-_k)),   log h(s) = (s - 1)/tau       (default)
 * NCE       -log( e^{s+/tau} / (e^{s+/tau} + sum_k e^{s-_k/tau}) )
 * TRIPLET   mean_k max(s-_k - s+ + m, 0)
 * LOGISTIC  -log sigmoid(s+/tau) - mean_k log(1 - sigmoid(s-_k/tau))
 * L2        ||u - v+||^2 = 2 - 2 s+                                            (no negatives)
 * </pre>
 *
 * averaged over the B*B pairs. {@code w} is {@code negativeWeight} (1 by default: the plain sum
 * over the N negatives, which is Eq. 7's {@code N E[.]}; Tab. 3's extra factor N is not applied).
 * {@code log(1 - h)} is evaluated as {@code log(-expm1(x))} through {@code -expm1(x) = 2t/(1+t)},
 * {@code t = tanh(-x/2)}, which is accurate for x near 0, and clamped so that {@code 1 - h >= 1e-7}
 * (finite loss and gradient when a negative equals the anchor). With no negatives (empty buffer at
 * the first step) the negative terms are zero: RC reduces to its positive term, NCE and TRIPLET to
 * 0, LOGISTIC to its positive term.
 */
public final class RelationContrastiveLoss {

    /** Smallest value of {@code 1 - h} used inside the log. */
    public static final double ONE_MINUS_H_EPS = 1e-7;

    /** The loss function. */
    public enum Type {
        /** Eq. 9: relation contrastive loss (default). */
        RC,
        /** InfoNCE (Tab. 3, L_NCE), the positive included in the normaliser. */
        NCE,
        /** Margin triplet (Tab. 3, L_MT). */
        TRIPLET,
        /** Contrastive logistic (Tab. 3, L_CL). */
        LOGISTIC,
        /** Plain L2 between anchor and positive (Tab. 1/4). */
        L2;

        /**
         * Parses a lower-case name.
         *
         * @param name {@code rc}, {@code nce}, {@code triplet}, {@code logistic} or {@code l2}
         * @return the type
         */
        public static Type of(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }

        /**
         * Returns whether the loss uses negatives at all.
         *
         * @return {@code false} for L2
         */
        public boolean usesNegatives() {
            return this != L2;
        }
    }

    private final Type type;
    private final double tau;
    private final double margin;
    private final double negativeWeight;

    /**
     * Creates the loss.
     *
     * @param type the loss function
     * @param tau the temperature (0.05 in the paper); used by RC, NCE, LOGISTIC
     * @param margin the margin m of TRIPLET (0.4 in the paper)
     * @param negativeWeight w, factor of RC's negative sum (1 = plain sum over the N negatives)
     */
    public RelationContrastiveLoss(Type type, double tau, double margin, double negativeWeight) {
        if (!(tau > 0) || !(negativeWeight >= 0) || !(margin >= 0)) {
            throw new IllegalArgumentException(
                    "RelationContrastiveLoss: tau must be > 0, margin and negativeWeight >= 0; got"
                            + " tau="
                            + tau
                            + ", margin="
                            + margin
                            + ", negativeWeight="
                            + negativeWeight);
        }
        this.type = type;
        this.tau = tau;
        this.margin = margin;
        this.negativeWeight = negativeWeight;
    }

    /**
     * Returns the loss type.
     *
     * @return the type
     */
    public Type type() {
        return type;
    }

    /**
     * Computes the loss from the critic embeddings.
     *
     * @param u (B, M, C) anchor embeddings h1(r^T_ij), unit vectors
     * @param positives (B, M, C) positive embeddings h2(r^{T,S}_ij), unit vectors
     * @param negatives (B, N, C) negative embeddings h2(r^{T,S}_ik) shared by all j; N may be 0
     * @return the scalar loss, mean over the B*M pairs
     */
    public NDArray compute(NDArray u, NDArray positives, NDArray negatives) {
        NDArray pos = u.mul(positives).sum(new int[] {2}); // (B, M)
        NDArray neg = null;
        if (type.usesNegatives() && negatives != null && negatives.getShape().get(1) > 0) {
            neg = u.matMul(negatives.transpose(0, 2, 1)); // (B, M, C) x (B, C, N) = (B, M, N)
        }
        return fromScores(pos, neg);
    }

    /**
     * Computes the loss from cosine scores.
     *
     * @param pos (B, M) scores u.v+ in [-1, 1]
     * @param neg (B, M, N) scores u.v-_k, or {@code null} when there are no negatives
     * @return the scalar loss, mean over the B*M pairs
     */
    public NDArray fromScores(NDArray pos, NDArray neg) {
        NDArray sPos = Scalars.minimum(pos, 1.0); // (B, M), h <= 1 despite rounding
        // (B, M, N); RC clamps inside its own negative term
        NDArray sNeg = neg == null || type == Type.RC ? null : Scalars.minimum(neg, 1.0);
        switch (type) {
            case RC:
                {
                    NDArray loss = Scalars.div(sPos.sub(1.0), -tau); // -log h(s+) (B, M)
                    if (neg != null && negativeWeight > 0) {
                        // the (B, M, N) part: one pass without autograd, its gradient kept
                        return loss.mean().add(rcNegativeTerm(neg, tau, negativeWeight));
                    }
                    return loss.mean();
                }
            case NCE:
                {
                    if (sNeg == null) {
                        return Scalars.mul(sPos, 0).mean();
                    }
                    // -s+/tau + logsumexp([s+, s-]/tau); shifted by 1/tau (all logits <= 0)
                    NDArray lp = Scalars.div(sPos.sub(1.0), tau); // (B, M)
                    NDArray ln = Scalars.div(sNeg.sub(1.0), tau); // (B, M, N)
                    NDArray all = NDArrays.concat(new NDList(lp.expandDims(2), ln), 2);
                    NDArray max = all.max(new int[] {2}, true).stopGradient(); // (B, M, 1)
                    NDArray lse = all.sub(max).exp().sum(new int[] {2}).log().add(max.squeeze(2));
                    return lse.sub(lp).mean();
                }
            case TRIPLET:
                {
                    if (sNeg == null) {
                        return Scalars.mul(sPos, 0).mean();
                    }
                    return Activation.relu(sNeg.sub(sPos.expandDims(2)).add(margin))
                            .mean(new int[] {2})
                            .mean();
                }
            case LOGISTIC:
                {
                    NDArray loss = softplus(Scalars.div(sPos, -tau)); // -log sigmoid(s+/tau)
                    if (sNeg != null) {
                        loss = loss.add(softplus(Scalars.div(sNeg, tau)).mean(new int[] {2}));
                    }
                    return loss.mean();
                }
            case L2:
                return Scalars.mul(sPos, -2).add(2).mean();
            default:
                throw new IllegalStateException("unknown loss " + type);
        }
    }

    /**
     * RC's negative term {@code -(w / (B M)) sum_{i,j,k} log(1 - h(min(s-_ijk, 1)))} as the
     * autograd chain of {@link #log1mExp} computes it: one scalar, its gradient w.r.t. the scores
     * flowing back through every elementwise step (about ten passes over the (B, M, N) scores
     * forward, twenty backward, each keeping its inputs). The reference for {@link
     * #rcNegativeTerm}.
     *
     * @param neg (B, M, N) scores
     * @param tau the temperature
     * @param weight w
     * @return () the term
     */
    static NDArray rcNegativeTermReference(NDArray neg, double tau, double weight) {
        NDArray sNeg = Scalars.minimum(neg, 1.0); // (B, M, N)
        NDArray log1mh = log1mExp(Scalars.div(sNeg.sub(1.0), tau)); // (B, M, N)
        long pairs = neg.getShape().get(0) * neg.getShape().get(1);
        return Scalars.mul(log1mh.sum(), -weight / pairs); // ()
    }

    /**
     * RC's negative term, same value and gradient as {@link #rcNegativeTermReference}, computed in
     * one pass without autograd and returned with its closed-form gradient attached. With {@code t
     * = tanh((1 - s)/(2 tau))}, {@code 1 - h = 2t/(1+t)} and, where {@code 2t/(1+t) >= eps} (else
     * the clamp makes it 0; also for {@code s >= 1}, where {@code t <= 0}),
     *
     * <pre>
     * d/ds [-(w/(B M)) log(2t/(1+t))] = (w/(B M)) (1 - t) / (2 tau t)
     * </pre>
     *
     * with {@code 1 - t} taken as {@code 2 / (1 + exp((1 - s)/tau))}, which has no cancellation
     * where t is near 1 (in float32 the reference's chain, through {@code 1 - t^2}, keeps a
     * relative error of about 1e-3 there, on gradients below {@code e^{-5}/tau}; this path is at
     * least as close to the float64 values, see {@code RcNegativeTermTest}).
     *
     * <p>The term is {@code value + (s . G - stop(s . G))} with {@code G} that gradient (detached):
     * the value exactly, and backward is one multiply by {@code G}. Nothing of the (B, M, N) chain
     * is kept for backward but {@code G}. (At an exact tie of the clamp, where the reference's
     * {@code maximum} splits the gradient in halves, this path gives 0.)
     *
     * @param neg (B, M, N) scores, with gradient
     * @param tau the temperature
     * @param weight w
     * @return () the term
     */
    static NDArray rcNegativeTerm(NDArray neg, double tau, double weight) {
        long pairs = neg.getShape().get(0) * neg.getShape().get(1);
        double k = 0.5 / tau;
        double c = weight / pairs;
        // not on a differentiable path from here to g: plain Number operands are safe
        NDArray s = neg.stopGradient(); // (B, M, N)
        // y = (1 - s) / (2 tau), s - 1 first: exact for s in [0.5, 2], as in the reference
        NDArray y = s.sub(1).divi(-2 * tau); // (B, M, N), < 0 for s > 1
        NDArray t = y.tanh(); // (B, M, N)
        NDArray q = t.mul(2).divi(t.add(1)); // 1 - h = 2t / (1 + t), <= 0 for s >= 1
        NDArray value = q.maximum(ONE_MINUS_H_EPS).log().sum().muli(-c); // ()
        // the clamp is inactive where 2t/(1+t) >= eps, i.e. t >= eps / (2 - eps)
        double tEps = ONE_MINUS_H_EPS / (2 - ONE_MINUS_H_EPS);
        NDArray kept = t.gte(tEps); // (B, M, N)
        // dL/ds = c k (1 - t) / t with 1 - t = 2 / (1 + e^{2y}), free of the cancellation of 1 - t
        // for t near 1 (far negatives; e^{2y} = inf gives the limit 0)
        NDArray den = y.mul(2).exp().addi(1).muli(t.maximum(tEps)); // (B, M, N)
        NDArray g = Scalars.of(den, 2 * c * k).div(den).muli(kept); // (B, M, N) dL/ds
        NDArray flat = neg.reshape(-1); // (B M N)
        NDArray dot = flat.dot(g.reshape(-1)); // () s . G, backward: G
        return value.add(dot.sub(dot.stopGradient())); // () value, gradient G
    }

    /**
     * Computes {@code log(1 - exp(x))} for {@code x <= 0}, accurate near 0, clamped so that the
     * argument of the log is at least {@link #ONE_MINUS_H_EPS}.
     *
     * @param x (...) values &lt;= 0
     * @return (...) finite values &lt;= 0
     */
    public static NDArray log1mExp(NDArray x) {
        // 1 - e^x = -expm1(x) = 2t / (1 + t) with t = tanh(-x/2) in [0, 1)
        NDArray t = Scalars.div(x, -2.0).tanh(); // (...)
        return Scalars.maximum(Scalars.mul(t, 2).div(t.add(1)), ONE_MINUS_H_EPS).log();
    }

    /** softplus(x) = log(1 + e^x) = relu(x) + log(1 + e^{-|x|}). */
    private static NDArray softplus(NDArray x) {
        return Activation.relu(x).add(x.abs().neg().exp().add(1).log());
    }
}
