package ai.crcd.core.crcd;

import ai.djl.Device;
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
import java.util.Locale;

/**
 * One side of the critic of CRCD (Eq. 15): {@code h1} (applied to the teacher relation) or {@code
 * h2} (applied to the cross relations), a transformation followed by l2 normalisation. The critic
 * itself is {@code h(r^T, r^{T,S}) = exp((h1(r^T) . h2(r^{T,S}) - 1) / tau)}, computed in log space
 * by {@link RelationContrastiveLoss}.
 *
 * <p>Transformations (Tab. 2): {@link Type#IDENTITY} (the critic becomes a cosine similarity),
 * {@link Type#LINEAR} {@code r V + e} (default, 128-d), {@link Type#MLP} {@code relu(r V1 + e1) V2
 * + e2} with one hidden layer of the input width R. Weights are stored as (in, out); every weight
 * and bias is initialised as PyTorch's {@code nn.Linear} (uniform in +-1/sqrt(R), R being the
 * fan-in of both layers).
 */
public class CriticHead extends AbstractBlock {

    /** The transformation before l2 normalisation. */
    public enum Type {
        /** No transformation: output dim = input dim. */
        IDENTITY,
        /** One linear map with bias. */
        LINEAR,
        /** Linear, ReLU, linear (hidden width = input dim), with biases. */
        MLP;

        /**
         * Parses a lower-case name.
         *
         * @param name {@code identity}, {@code linear} or {@code mlp}
         * @return the type
         */
        public static Type of(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }
    }

    private final Type type;
    private final int inputDim;
    private final int outputDim;
    private Parameter weight;
    private Parameter bias;
    private Parameter hiddenWeight;
    private Parameter hiddenBias;

    /**
     * Creates a critic head.
     *
     * @param type the transformation
     * @param inputDim R, the relation dimension
     * @param outputDim C, the critic dimension (ignored for {@link Type#IDENTITY}, where C = R)
     */
    public CriticHead(Type type, int inputDim, int outputDim) {
        if (inputDim <= 0 || (type != Type.IDENTITY && outputDim <= 0)) {
            throw new IllegalArgumentException(
                    "CriticHead dims must be positive, got inputDim="
                            + inputDim
                            + ", outputDim="
                            + outputDim);
        }
        this.type = type;
        this.inputDim = inputDim;
        this.outputDim = type == Type.IDENTITY ? inputDim : outputDim;
        if (type == Type.LINEAR) {
            weight = addParameter(RelationBlock.weight("weight", inputDim, outputDim));
            bias = addParameter(RelationBlock.bias("bias", inputDim, outputDim));
        } else if (type == Type.MLP) {
            hiddenWeight = addParameter(RelationBlock.weight("hidden_weight", inputDim, inputDim));
            hiddenBias = addParameter(RelationBlock.bias("hidden_bias", inputDim, inputDim));
            weight = addParameter(RelationBlock.weight("weight", inputDim, outputDim));
            bias = addParameter(RelationBlock.bias("bias", inputDim, outputDim));
        }
    }

    /**
     * Returns the transformation type.
     *
     * @return the type
     */
    public Type type() {
        return type;
    }

    /**
     * Returns C, the output dimension.
     *
     * @return C
     */
    public int outputDim() {
        return outputDim;
    }

    /**
     * Returns the linear map's weight (only for {@link Type#LINEAR}), used to fold the critic into
     * the preceding linear layer of the relation network.
     *
     * @param ps the parameter store
     * @param device the device
     * @param training whether training
     * @return (R, C)
     */
    public NDArray linearWeight(ParameterStore ps, Device device, boolean training) {
        requireLinear();
        return ps.getValue(weight, device, training);
    }

    /**
     * Returns the linear map's bias (only for {@link Type#LINEAR}).
     *
     * @param ps the parameter store
     * @param device the device
     * @param training whether training
     * @return (C)
     */
    public NDArray linearBias(ParameterStore ps, Device device, boolean training) {
        requireLinear();
        return ps.getValue(bias, device, training);
    }

    private void requireLinear() {
        if (type != Type.LINEAR) {
            throw new IllegalStateException("critic head is " + type + ", not LINEAR");
        }
    }

    /**
     * Applies the transformation and the l2 normalisation.
     *
     * @param ps the parameter store
     * @param relations (..., R)
     * @param training whether training
     * @return (..., C) unit vectors
     */
    public NDArray apply(ParameterStore ps, NDArray relations, boolean training) {
        Device dev = relations.getDevice();
        NDArray x = relations; // (..., R)
        if (type == Type.MLP) {
            x =
                    Activation.relu(
                            x.matMul(ps.getValue(hiddenWeight, dev, training))
                                    .add(ps.getValue(hiddenBias, dev, training))); // (..., R)
        }
        if (type != Type.IDENTITY) {
            x =
                    x.matMul(ps.getValue(weight, dev, training))
                            .add(ps.getValue(bias, dev, training)); // (..., C)
        }
        return FeatureElement.l2Normalize(x);
    }

    /**
     * Forward pass.
     *
     * @param ps the parameter store
     * @param inputs [relations (..., R)]
     * @param training whether training
     * @param params unused
     * @return [(..., C) unit vectors]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    /**
     * Returns the output shape.
     *
     * @param inputShapes [(..., R)]
     * @return [(..., C)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(outputDim)};
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
