package ai.crcd.core.zoo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * RepDistiller's {@code ConvReg} ({@code models/util.py}): maps a student feature map (B, Cs, Hs,
 * Ws) to the teacher's (B, Ct, Ht, Wt) with one convolution chosen by the sizes, then BatchNorm and
 * (optionally) ReLU:
 *
 * <ul>
 *   <li>Hs == 2 Ht: 3x3 convolution, stride 2, padding 1;
 *   <li>2 Hs == Ht: 4x4 transposed convolution, stride 2, padding 1;
 *   <li>Hs &gt;= Ht: (1 + Hs - Ht) x (1 + Ws - Wt) convolution;
 *   <li>otherwise: not supported (as RepDistiller).
 * </ul>
 *
 * Convolutions initialised as PyTorch's defaults, BatchNorm gamma 1 beta 0.
 */
public final class ConvReg extends AbstractBlock {

    private static final byte VERSION = 1;

    private final Block conv;
    private final BatchNorm bn;
    private final boolean useRelu;

    /**
     * Creates the regressor.
     *
     * @param student the student feature shape (N, Cs, Hs, Ws)
     * @param teacher the teacher feature shape (N, Ct, Ht, Wt)
     * @param useRelu whether a ReLU follows the BatchNorm (FitNet: yes; AB's connector: no)
     * @throws IllegalArgumentException if Hs &lt; Ht and Hs is not Ht / 2
     */
    public ConvReg(Shape student, Shape teacher, boolean useRelu) {
        super(VERSION);
        long sc = student.get(1);
        long sh = student.get(2);
        long sw = student.get(3);
        long tc = teacher.get(1);
        long th = teacher.get(2);
        long tw = teacher.get(3);
        Block c;
        if (sh == 2 * th) {
            c = ZooLayers.conv(sc, tc, 3, 3, 2, 1);
        } else if (sh * 2 == th) {
            c = ZooLayers.convTranspose(tc, 4, 1);
        } else if (sh >= th) {
            c = ZooLayers.conv(sc, tc, 1 + sh - th, 1 + sw - tw, 1, 0);
        } else {
            throw new IllegalArgumentException(
                    "ConvReg: student size " + sh + ", teacher size " + th + " not supported");
        }
        this.conv = addChildBlock("conv", c);
        this.bn = addChildBlock("bn", BatchNorm.builder().build());
        this.useRelu = useRelu;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList y = conv.forward(ps, inputs, training); // (B, Ct, Ht, Wt)
        NDList z = bn.forward(ps, y, training);
        return useRelu ? new NDList(Activation.relu(z.singletonOrThrow())) : z;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv.getOutputShapes(inputShapes);
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        conv.initialize(manager, dataType, inputShapes);
        bn.initialize(manager, dataType, conv.getOutputShapes(inputShapes));
    }
}
