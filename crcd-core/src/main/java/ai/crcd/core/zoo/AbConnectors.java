package ai.crcd.core.zoo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * AB's connectors, RepDistiller's {@code Connector} ({@code models/util.py}): one per stage, the
 * identity where the student's and the teacher's stage have the same channels and height, else a
 * {@link ConvReg} without ReLU (convolution + BatchNorm).
 *
 * <p>Input: the K student pre-activation stage outputs (B, Csk, Hsk, Wsk). Output: K maps (B, Ctk,
 * Htk, Wtk).
 */
public final class AbConnectors extends AbstractBlock {

    private static final byte VERSION = 1;

    private final List<ConvReg> connectors = new ArrayList<>(); // null = identity
    private final List<Shape> studentShapes;

    /**
     * Creates the connectors.
     *
     * @param student the K student stage shapes (N, C, H, W)
     * @param teacher the K teacher stage shapes
     */
    public AbConnectors(List<Shape> student, List<Shape> teacher) {
        super(VERSION);
        if (student.size() != teacher.size()) {
            throw new IllegalArgumentException(
                    "ab: the student has "
                            + student.size()
                            + " stages, the teacher "
                            + teacher.size()
                            + "; AB pairs stage k with stage k (RepDistiller: unequal length of"
                            + " feat list)");
        }
        this.studentShapes = List.copyOf(student);
        for (int i = 0; i < student.size(); i++) {
            Shape s = student.get(i);
            Shape t = teacher.get(i);
            if (s.get(1) == t.get(1) && s.get(2) == t.get(2)) {
                connectors.add(null);
            } else {
                connectors.add(addChildBlock("connector" + (i + 1), new ConvReg(s, t, false)));
            }
        }
    }

    /**
     * Returns how many stages have a convolutional connector (the rest are identities).
     *
     * @return the count
     */
    public int convolutional() {
        return (int) connectors.stream().filter(c -> c != null).count();
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = new NDList();
        for (int i = 0; i < connectors.size(); i++) {
            ConvReg c = connectors.get(i);
            out.add(
                    c == null
                            ? inputs.get(i)
                            : c.forward(ps, new NDList(inputs.get(i)), training)
                                    .singletonOrThrow());
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] out = new Shape[connectors.size()];
        for (int i = 0; i < out.length; i++) {
            ConvReg c = connectors.get(i);
            out[i] =
                    c == null ? inputShapes[i] : c.getOutputShapes(new Shape[] {inputShapes[i]})[0];
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        for (int i = 0; i < connectors.size(); i++) {
            if (connectors.get(i) != null) {
                connectors.get(i).initialize(manager, dataType, inputShapes[i]);
            }
        }
    }

    /**
     * Returns the student stage shapes the connectors were made for.
     *
     * @return the shapes
     */
    public List<Shape> studentShapes() {
        return studentShapes;
    }
}
