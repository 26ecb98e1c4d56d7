package ai.crcd.core.crcd;

import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;

/**
 * RC's negative term computed straight from the folded head of the negatives, chunk by chunk, with
 * its gradients derived by hand: the value of
 *
 * <pre>
 * v-_ik = normalise(z_ik),  z_ik = relu(A_i - S_k) Wf^T + bf         (B, N, C)
 * s_ijk = u_ij . v-_ik                                                (B, M, N)
 * L     = -(w / (B M)) sum_ijk log(max(1 - h(s_ijk), eps))            ()
 * </pre>
 *
 * and its gradients w.r.t. the five small tensors it is made of ({@code u} (B, M, C), the projected
 * anchors {@code A} (B, R), the projected negatives {@code S} (N, R), the folded weight {@code Wf}
 * (C, R) and bias {@code bf} (C)) are computed in the forward pass without autograd, one chunk of
 * negatives at a time; each chunk's hidden relations, critic outputs and scores are freed before
 * the next chunk ({@link NDScope}), nothing of the (B, N, R) or (B, M, N) side is kept for
 * backward. The result is {@code L + sum_x (x . G_x - stop(x . G_x))}: the value exactly, and
 * backward sends {@code G_x} to each of the five tensors (and from there, by autograd, to the
 * relation networks, the critics and the student).
 *
 * <p>Backward by hand, per chunk of Nc negatives (G = dL/ds from {@link
 * RelationContrastiveLoss#rcNegativeValueAndGradient}):
 *
 * <pre>
 * dL/du_ij  += sum_k G_ijk v_ik               bmm (B, M, Nc) x (B, Nc, C)
 * dL/dv_ik   = sum_j G_ijk u_ij               bmm (B, Nc, M) x (B, M, C)
 * dL/dz      = (dv - v (v . dv)) / max(|z|, eps)      (v . dv term only where |z| > eps)
 *              v_ik . dv_ik = sum_j G_ijk s_ijk        (on the scores, (B, M, Nc))
 * dL/dbf    += sum_ik dz_ik                   (C)
 * dL/dWf    += dz^T h                         (C, B Nc) x (B Nc, R)
 * dL/dh      = (dz Wf) [h > 0]                (B Nc, C) x (C, R), relu mask = sign(h)
 * dL/dA_i   += sum_k dh_ik                    (B, R)
 * dL/dS_k    = -sum_i dh_ik                   (Nc, R)
 * </pre>
 *
 * The same three GEMMs as autograd runs, fewer elementwise passes, and the working set of one
 * chunk.
 */
public final class RcNegativesHead {

    /**
     * Largest hidden-relation chunk, in elements (4 MB in float32); only one chunk's temporaries
     * are alive at a time. Measured in-process on 2 cores (B 64, N 500, R 256, C 128; one element's
     * loss forward + backward, paired ratio to autograd, machine under load): 512K 0.84, 1M 0.78,
     * 2M 0.82; smaller chunks pay DJL's per-op overhead (about 25 ops per chunk).
     */
    static final long CHUNK_ELEMENTS = 1024L * 1024;

    private RcNegativesHead() {}

    /**
     * Computes RC's negative term with its gradients attached, in chunks of {@link
     * #CHUNK_ELEMENTS}.
     *
     * @param u (B, M, C) anchor embeddings, unit rows
     * @param anchors (B, R) projected anchors {@code t W_a + b_a} of M^{T,S}
     * @param samples (N, R) projected negatives {@code q W_b}, N &gt; 0
     * @param weight (C, R) folded weight {@code (W V)^T}
     * @param bias (C) folded bias {@code c V + e}
     * @param tau the temperature
     * @param negativeWeight w, factor of the negative sum
     * @param gradients whether to compute and attach the gradients ({@code false}: the value only,
     *     for evaluation)
     * @return () the term, differentiable in the five inputs when {@code gradients}
     */
    public static NDArray compute(
            NDArray u,
            NDArray anchors,
            NDArray samples,
            NDArray weight,
            NDArray bias,
            double tau,
            double negativeWeight,
            boolean gradients) {
        return compute(
                u, anchors, samples, weight, bias, tau, negativeWeight, gradients, CHUNK_ELEMENTS);
    }

    /** {@link #compute} with a given chunk size in hidden elements (package-private for tests). */
    static NDArray compute(
            NDArray u,
            NDArray anchors,
            NDArray samples,
            NDArray weight,
            NDArray bias,
            double tau,
            double negativeWeight,
            boolean gradients,
            long chunkElements) {
        long b = u.getShape().get(0);
        long m = u.getShape().get(1);
        long cdim = u.getShape().get(2);
        long n = samples.getShape().get(0);
        long r = anchors.getShape().get(1);
        double c = negativeWeight / (b * m);
        NDManager step = u.getManager();
        // detached copies; every op below is outside autograd (plain Number operands are safe)
        NDArray ud = u.stopGradient(); // (B, M, C)
        NDArray ad = anchors.stopGradient().expandDims(1); // (B, 1, R)
        NDArray sd = samples.stopGradient(); // (N, R)
        NDArray wd = weight.stopGradient(); // (C, R)
        NDArray bd = bias.stopGradient(); // (C)
        // accumulators, in place
        NDArray value = step.zeros(new Shape(), u.getDataType()); // ()
        NDArray gu = ud.zerosLike(); // (B, M, C)
        NDArray ga = step.zeros(new Shape(b, r), u.getDataType()); // (B, R)
        NDArray gw = wd.zerosLike(); // (C, R)
        NDArray gb = bd.zerosLike(); // (C)
        NDList gs = new NDList(); // (Nc, R) per chunk
        long chunk = Math.max(1, chunkElements / (b * r)); // negatives per chunk
        for (long k0 = 0; k0 < n; k0 += chunk) {
            long nc = Math.min(chunk, n - k0);
            try (NDScope scope = new NDScope()) {
                NDArray sc = nc == n ? sd : sd.get(new NDIndex("{}:{}", k0, k0 + nc)); // (Nc, R)
                NDArray x = ad.sub(sc.expandDims(0)); // (B, Nc, R)
                NDArray h = Activation.relu(x).reshape(b * nc, r); // (B Nc, R)
                x.close();
                NDArray z = h.getNDArrayInternal().linear(h, wd, bd).singletonOrThrow(); // (BNc, C)
                NDArray norm = z.norm(new int[] {1}, true); // (B Nc, 1)
                NDArray inv = Scalars.of(norm, 1.0).div(norm.maximum(FeatureElement.NORM_EPS));
                NDArray v = z.mul(inv); // (B Nc, C), as FeatureElement.l2Normalize
                z.close();
                NDArray v3 = v.reshape(b, nc, cdim); // (B, Nc, C)
                NDArray s = ud.matMul(v3.transpose(0, 2, 1)); // (B, M, C) x (B, C, Nc)
                NDArray[] vg = RelationContrastiveLoss.rcNegativeValueAndGradient(s, tau, c);
                value.addi(vg[0]);
                if (!gradients) {
                    continue;
                }
                NDArray g = vg[1]; // (B, M, Nc) dL/ds
                gu.addi(g.matMul(v3)); // (B, M, Nc) x (B, Nc, C)
                // normalise backward, dz = inv (dv - v (v . dv)) with dv = G^T u (B, Nc, C):
                // v_ik . dv_ik = sum_j G_ijk s_ijk, on the scores instead of the (B Nc, C) side;
                // the norm's path only where its clamp is inactive
                NDArray proj = g.mul(s).sum(new int[] {1}).reshape(b * nc, 1); // (B Nc, 1)
                s.close();
                proj.muli(norm.gt(FeatureElement.NORM_EPS));
                // (B, Nc, M) x (B, M, C) -> (B Nc, C)
                NDArray dv = g.transpose(0, 2, 1).matMul(ud).reshape(b * nc, cdim);
                NDArray dz = dv.subi(v.muli(proj)).muli(inv); // (B Nc, C)
                gb.addi(dz.sum(new int[] {0})); // (C)
                gw.addi(dz.transpose().matMul(h)); // (C, B Nc) x (B Nc, R)
                NDArray dh = dz.matMul(wd); // (B Nc, C) x (C, R) = (B Nc, R)
                // relu mask: h >= 0, so sign(h) is the 0/1 mask [h > 0] as floats (a multiply by
                // a boolean array is several times slower in libtorch); h is not needed after gw,
                // so it becomes its mask in place
                dh.muli(h.signi());
                h.close();
                NDArray dh3 = dh.reshape(b, nc, r); // (B, Nc, R)
                ga.addi(dh3.sum(new int[] {1})); // (B, R)
                NDArray gsc = dh3.sum(new int[] {0}).negi(); // (Nc, R)
                NDScope.unregister(gsc);
                gs.add(gsc);
            }
        }
        if (!gradients) {
            return value; // ()
        }
        NDArray gsAll = gs.size() == 1 ? gs.get(0) : NDArrays.concat(gs, 0); // (N, R)
        // attach: sum_x x . G_x has gradient G_x w.r.t. x, and value 0 once its detached copy is
        // subtracted
        NDArray dot =
                flatDot(u, gu)
                        .add(flatDot(anchors, ga))
                        .add(flatDot(samples, gsAll))
                        .add(flatDot(weight, gw))
                        .add(flatDot(bias, gb)); // ()
        return value.add(dot.sub(dot.stopGradient())); // ()
    }

    /** Returns x . g over all entries, differentiable in x; g is detached. */
    private static NDArray flatDot(NDArray x, NDArray g) {
        return x.reshape(-1).dot(g.reshape(-1)); // ()
    }
}
