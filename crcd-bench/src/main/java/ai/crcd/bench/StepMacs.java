package ai.crcd.bench;

import ai.crcd.bench.suite.MethodSpec;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The multiply-adds of one training step of a method, from the shapes (docs/benchmarks.md,
 * "Multiply-adds"): the student's forward and backward, the teacher's forward when the method uses
 * the teacher, plus the method's own products (CRD's embeddings and scores; CRCD's relation
 * networks, critics and scores per element). Elementwise work, softmax, normalisation and the
 * optimiser update are not counted: the count is the arithmetic of the products, the bound a step
 * cannot go below.
 *
 * @param batch B
 * @param teacher the teacher's per-sample forward count
 * @param student the student's per-sample forward count
 * @param teacherDim Dt, the teacher's pooled feature size
 * @param studentDim Ds, the student's pooled feature size
 * @param classes the number of classes
 */
public record StepMacs(
        int batch,
        NetworkMacs teacher,
        NetworkMacs student,
        int teacherDim,
        int studentDim,
        int classes) {

    /**
     * Returns the multiply-adds of one step of a method.
     *
     * @param method the method; its options give N, R, C (CRCD) and K, F (CRD), defaults as the
     *     distillers' (negatives 500, relation_dim 256, critic_dim 128; nce_k 16384, feat_dim 128)
     * @return the count, empty for a method without a formula here
     */
    public OptionalLong perStep(MethodSpec method) {
        long b = batch;
        long studentPart = b * student.forwardBackward();
        long teacherPart = b * teacher.forward();
        Map<String, Object> o = method.options();
        switch (method.method()) {
            case "vanilla":
                return OptionalLong.of(studentPart);
            case "kd":
                return OptionalLong.of(studentPart + teacherPart);
            case "crd", "crd_kd":
                return OptionalLong.of(
                        studentPart
                                + teacherPart
                                + crd(intOption(o, "nce_k", 16384), intOption(o, "feat_dim", 128)));
            case "crcd", "frcd", "grcd":
                {
                    int n = intOption(o, "negatives", 500);
                    int r = intOption(o, "relation_dim", 256);
                    int c = intOption(o, "critic_dim", 128);
                    long extra = 0;
                    if (!method.method().equals("grcd")) {
                        extra += relationElement(n, r, c);
                    }
                    if (!method.method().equals("frcd")) {
                        extra += relationElement(n, r, c) + gradientElement();
                    }
                    return OptionalLong.of(studentPart + teacherPart + extra);
                }
            default:
                return OptionalLong.empty();
        }
    }

    /**
     * CRD's products: the student embedding (Ds x F forward, input and weight gradients), the
     * teacher embedding (forward, weight gradient: the teacher feature has none), and per side the
     * (B, K+1, F) x (F) scores forward and their gradient with respect to the embedding (the memory
     * has no gradient).
     *
     * @param k negatives K
     * @param f embedding size F
     * @return multiply-adds per step
     */
    long crd(long k, long f) {
        long b = batch;
        return 3 * b * studentDim * f + 2 * b * teacherDim * f + 2 * 2 * b * (k + 1) * f;
    }

    /**
     * One relation element (feature or gradient), with the critic folded into M's output map:
     *
     * <ul>
     *   <li>anchor and sample projections of M^T (teacher, teacher) and the anchor projection of
     *       M^{T,S}: B x Dt x R each, forward and weight gradient;
     *   <li>the sample projection of M^{T,S} over [s; q] (B + N rows): forward and weight gradient,
     *       input gradient for the B student rows only (the queue has none);
     *   <li>the hidden relations through the folded (R, C) map: (B, B, R) for M^T and (B, B+N, R)
     *       for M^{T,S}, forward, input gradient, weight gradient;
     *   <li>the folding itself, W V (R x R x C) per head, forward and both gradients;
     *   <li>the scores: (B, B) positives and (B, B, N) negatives over C, forward and both
     *       gradients.
     * </ul>
     *
     * @param n negatives N
     * @param r relation size R
     * @param c critic size C
     * @return multiply-adds per step
     */
    long relationElement(long n, long r, long c) {
        long b = batch;
        long projections = 3 * 2 * b * teacherDim * r + (2 * (b + n) + b) * studentDim * r;
        long hidden = 3 * (b * b + b * (b + n)) * r * c;
        long folding = 2 * 3 * r * r * c;
        long scores = 3 * (b * b + b * b * n) * c;
        return projections + hidden + folding + scores;
    }

    /**
     * The gradient element: the student's g = (softmax(z) - onehot(y)) W / B (B x classes x Ds)
     * forward and its two gradients (double backward), the teacher's g forward (B x classes x Dt).
     *
     * @return multiply-adds per step
     */
    long gradientElement() {
        long b = batch;
        return 3 * b * classes * studentDim + b * classes * teacherDim;
    }

    private static int intOption(Map<String, Object> options, String key, int dflt) {
        Object v = options.get(key);
        return v instanceof Number num ? num.intValue() : dflt;
    }
}
