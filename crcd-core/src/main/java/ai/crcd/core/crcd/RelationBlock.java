package ai.crcd.core.crcd;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The relation sub-network of CRCD (Eq. 10, 11): {@code M(a, b) = W relu(W_a a - W_b b)}.
 *
 * <p>Used as {@code M^T} (anchor and sample both from the teacher) and as {@code M^{T,S}} (teacher
 * anchor, student sample); {@code W_a}, {@code W_b} map the two inputs, whose dimensions may
 * differ, into a common hidden space of the relation dimension R, {@code W} maps to the relation.
 *
 * <p>Biases: {@code W_a a + b_a - (W_b b + b_b)} has one effective bias {@code b_a - b_b}, so only
 * the anchor map carries a bias ({@code b_a}); {@code W} has its own bias {@code c}. In full:
 * {@code M(a, b) = relu(a W_a + b_a - b W_b) W + c}. Weights are stored as (in, out) so that the
 * per-step input is always the first operand of a matmul (DJL attaches a result to the manager of
 * its first operand).
 *
 * <p>Initialisation as the reference code's PyTorch {@code nn.Linear} layers ({@link
 * FanInUniformInitializer}): {@code W_a}, {@code b_a} uniform in +-1/sqrt(Da), {@code W_b} in
 * +-1/sqrt(Db), {@code W}, {@code c} in +-1/sqrt(R); the fan-in is the first axis of each stored
 * weight.
 *
 * <p>The forward pass evaluates all pairs: for P anchors and Q samples it returns (P, Q, R).
 */
public class RelationBlock extends AbstractBlock {

    private final int anchorDim;
    private final int sampleDim;
    private final int relationDim;
    private final Parameter anchorWeight;
    private final Parameter anchorBias;
    private final Parameter sampleWeight;
    private final Parameter outputWeight;
    private final Parameter outputBias;

    /**
     * Creates the block.
     *
     * @param anchorDim Da, dimension of the anchor representation (the teacher's)
     * @param sampleDim Db, dimension of the sample representation (teacher's for M^T, student's for
     *     M^{T,S})
     * @param relationDim R, dimension of the hidden layer and of the relation (256 in the paper)
     */
    public RelationBlock(int anchorDim, int sampleDim, int relationDim) {
        if (anchorDim <= 0 || sampleDim <= 0 || relationDim <= 0) {
            throw new IllegalArgumentException(
                    "RelationBlock dims must be positive, got anchorDim="
                            + anchorDim
                            + ", sampleDim="
                            + sampleDim
                            + ", relationDim="
                            + relationDim);
        }
        this.anchorDim = anchorDim;
        this.sampleDim = sampleDim;
        this.relationDim = relationDim;
        anchorWeight = addParameter(weight("anchor_weight", anchorDim, relationDim));
        anchorBias = addParameter(bias("anchor_bias", anchorDim, relationDim));
        sampleWeight = addParameter(weight("sample_weight", sampleDim, relationDim));
        outputWeight = addParameter(weight("output_weight", relationDim, relationDim));
        outputBias = addParameter(bias("output_bias", relationDim, relationDim));
    }

    /**
     * A linear map's weight stored as (in, out), initialised as PyTorch's {@code nn.Linear(in,
     * out)}: uniform in +-1/sqrt(in).
     */
    static Parameter weight(String name, int in, int out) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(in, out))
                .optInitializer(new FanInUniformInitializer(in))
                .build();
    }

    /**
     * A linear map's bias, initialised as PyTorch's {@code nn.Linear(fanIn, out)}: uniform in
     * +-1/sqrt(fanIn), fanIn being the input size of the map it belongs to.
     */
    static Parameter bias(String name, int fanIn, int out) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(out))
                .optInitializer(new FanInUniformInitializer(fanIn))
                .build();
    }

    /**
     * Returns Da.
     *
     * @return the anchor dimension
     */
    public int anchorDim() {
        return anchorDim;
    }

    /**
     * Returns Db.
     *
     * @return the sample dimension
     */
    public int sampleDim() {
        return sampleDim;
    }

    /**
     * Returns R.
     *
     * @return the relation dimension
     */
    public int relationDim() {
        return relationDim;
    }

    /**
     * Computes {@code a W_a + b_a}.
     *
     * @param ps the parameter store
     * @param anchors (P, Da)
     * @param training whether training
     * @return (P, R)
     */
    public NDArray projectAnchors(ParameterStore ps, NDArray anchors, boolean training) {
        NDArray w = ps.getValue(anchorWeight, anchors.getDevice(), training); // (Da, R)
        NDArray b = ps.getValue(anchorBias, anchors.getDevice(), training); // (R)
        return anchors.matMul(w).add(b); // (P, R)
    }

    /**
     * Computes {@code b W_b}.
     *
     * @param ps the parameter store
     * @param samples (Q, Db)
     * @param training whether training
     * @return (Q, R)
     */
    public NDArray projectSamples(ParameterStore ps, NDArray samples, boolean training) {
        NDArray w = ps.getValue(sampleWeight, samples.getDevice(), training); // (Db, R)
        return samples.matMul(w); // (Q, R)
    }

    /**
     * Computes the hidden relation {@code relu(A_p - S_q)} for every pair.
     *
     * @param projectedAnchors (P, R) from {@link #projectAnchors}
     * @param projectedSamples (Q, R) from {@link #projectSamples}
     * @return (P, Q, R)
     */
    public static NDArray hidden(NDArray projectedAnchors, NDArray projectedSamples) {
        return Activation.relu(projectedAnchors.expandDims(1).sub(projectedSamples.expandDims(0)));
    }

    /**
     * Returns the output map {@code W}.
     *
     * @param ps the parameter store
     * @param device the device
     * @param training whether training
     * @return (R, R), stored as (in, out)
     */
    public NDArray outputWeight(ParameterStore ps, ai.djl.Device device, boolean training) {
        return ps.getValue(outputWeight, device, training);
    }

    /**
     * Returns the output bias {@code c}.
     *
     * @param ps the parameter store
     * @param device the device
     * @param training whether training
     * @return (R)
     */
    public NDArray outputBias(ParameterStore ps, ai.djl.Device device, boolean training) {
        return ps.getValue(outputBias, device, training);
    }

    /**
     * Computes all pair relations {@code M(a_p, b_q)}.
     *
     * @param ps the parameter store
     * @param anchors (P, Da)
     * @param samples (Q, Db)
     * @param training whether training
     * @return (P, Q, R)
     */
    public NDArray relations(
            ParameterStore ps, NDArray anchors, NDArray samples, boolean training) {
        NDArray h =
                hidden(
                        projectAnchors(ps, anchors, training),
                        projectSamples(ps, samples, training)); // (P, Q, R)
        NDArray w = outputWeight(ps, anchors.getDevice(), training); // (R, R)
        NDArray c = outputBias(ps, anchors.getDevice(), training); // (R)
        return h.matMul(w).add(c); // (P, Q, R)
    }

    /**
     * Forward pass.
     *
     * @param ps the parameter store
     * @param inputs [anchors (P, Da), samples (Q, Db)]
     * @param training whether training
     * @param params unused
     * @return [relations (P, Q, R)]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() != 2) {
            throw new IllegalArgumentException(
                    "RelationBlock takes [anchors (P, Da), samples (Q, Db)], got "
                            + inputs.size()
                            + " arrays");
        }
        return new NDList(relations(ps, inputs.get(0), inputs.get(1), training));
    }

    /**
     * Returns the output shape.
     *
     * @param inputShapes [(P, Da), (Q, Db)]
     * @return [(P, Q, R)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), inputShapes[1].get(0), relationDim)};
    }

    /**
     * Initialises the parameters (their shapes are fixed by the constructor).
     *
     * @param manager the manager
     * @param dataType the data type
     * @param inputShapes ignored
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {}
}
