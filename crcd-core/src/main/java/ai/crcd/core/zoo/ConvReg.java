package ai.crcd.core.zoo;

import ai.crcd.core.FanInUniformInitializer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * RepDistiller's {@code ConvReg} ({@code models/util.py}), the convolutional regressor that maps a
 * student map (N, Cs, Hs, Ws) to a teacher map's shape (N, Ct, Ht, Wt): a convolution chosen by the
 * two heights, then {@code BatchNorm2d(Ct)}, then ReLU (unless built without it, as RepDistiller's
 * {@code Connector} uses it).
 *
 * <ul>
 *   <li>{@code Hs == 2 Ht}: {@code Conv2d(Cs, Ct, 3, stride 2, padding 1)};
 *   <li>{@code 2 Hs == Ht}: {@code ConvTranspose2d(Cs, Ct, 4, stride 2, padding 1)};
 *   <li>{@code Hs >= Ht}: {@code Conv2d(Cs, Ct, (1 + Hs - Ht, 1 + Ws - Wt))} (1x1 for equal sizes);
 *   <li>otherwise unsupported (RepDistiller raises).
 * </ul>
 *
 * <p>Initialisation as PyTorch's defaults: weight and bias uniform in {@code +-1/sqrt(fan_in)} with
 * PyTorch's fan-in of the weight, {@code Cs * kh * kw} for the convolution and {@code Ct * 4 * 4}
 * for the transposed one ({@link ConvTranspose2d}: PyTorch reads axis 1 of its (Cs, Ct, kh, kw)
 * weight); BatchNorm gamma 1, beta 0, eps 1e-5, momentum 0.1 (DJL 0.9).
 */
public final class ConvReg extends AbstractBlock {

    private static final byte VERSION = 1;

    /** Which convolution maps the student's size to the teacher's. */
    public enum Kind {
        /** 3x3, stride 2, padding 1: the student is twice as tall. */
        STRIDED,
        /** 4x4 transposed, stride 2, padding 1: the student is half as tall. */
        TRANSPOSED,
        /** Unpadded (1 + Hs - Ht) x (1 + Ws - Wt): the student is at least as tall. */
        VALID
    }

    private final Shape studentShape;
    private final Shape teacherShape;
    private final Kind kind;
    private final boolean relu;
    private final Block conv;
    private final BatchNorm bn;

    /**
     * Creates the regressor.
     *
     * @param student the student map's shape (N, Cs, Hs, Ws); N is ignored
     * @param teacher the teacher map's shape (N, Ct, Ht, Wt); N is ignored
     * @param relu whether a ReLU follows the BatchNorm (RepDistiller's {@code use_relu}, true for
     *     FitNet)
     * @throws IllegalArgumentException when no convolution maps the one to the other, see {@link
     *     #check}
     */
    public ConvReg(Shape student, Shape teacher, boolean relu) {
        super(VERSION);
        String problem = check(student, teacher);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.studentShape = student;
        this.teacherShape = teacher;
        this.kind = kind(student.get(2), teacher.get(2));
        this.relu = relu;
        long cs = student.get(1);
        long ct = teacher.get(1);
        Shape kernel = kernel(kind, student, teacher);
        if (kind == Kind.TRANSPOSED) {
            conv = new ConvTranspose2d(cs, ct); // PyTorch's fan-in, see there
        } else {
            Conv2d.Builder b =
                    Conv2d.builder().setKernelShape(kernel).setFilters(Math.toIntExact(ct));
            if (kind == Kind.STRIDED) {
                b.optStride(new Shape(2, 2)).optPadding(new Shape(1, 1));
            }
            conv = b.build();
            FanInUniformInitializer init = new FanInUniformInitializer(cs * kernel.size());
            conv.setInitializer(init, Parameter.Type.WEIGHT);
            conv.setInitializer(init, Parameter.Type.BIAS);
        }
        addChildBlock("conv", conv);
        bn = addChildBlock("bn", BatchNorm.builder().optMomentum(0.9f).optEpsilon(1e-5f).build());
    }

    /**
     * Returns the convolution RepDistiller picks for two heights.
     *
     * @param studentH Hs
     * @param teacherH Ht
     * @return the kind, or {@code null} when unsupported ({@code Hs < Ht}, {@code 2 Hs != Ht})
     */
    public static Kind kind(long studentH, long teacherH) {
        if (studentH == 2 * teacherH) {
            return Kind.STRIDED;
        }
        if (studentH * 2 == teacherH) {
            return Kind.TRANSPOSED;
        }
        if (studentH >= teacherH) {
            return Kind.VALID;
        }
        return null;
    }

    /**
     * Checks that a regressor maps the student's map exactly to the teacher's.
     *
     * @param student (N, Cs, Hs, Ws)
     * @param teacher (N, Ct, Ht, Wt)
     * @return {@code null} when it does, else what is wrong in words
     */
    public static String check(Shape student, Shape teacher) {
        if (student.dimension() != 4 || teacher.dimension() != 4) {
            return "ConvReg maps (N, C, H, W) feature maps, got student "
                    + student
                    + " and teacher "
                    + teacher;
        }
        Kind k = kind(student.get(2), teacher.get(2));
        if (k == null) {
            return "ConvReg cannot map a student map of height "
                    + student.get(2)
                    + " to a teacher map of height "
                    + teacher.get(2)
                    + " (it needs the student height to be twice, half, or at least the teacher's)";
        }
        long[] out = outSize(k, student, teacher);
        if (out[0] != teacher.get(2) || out[1] != teacher.get(3)) {
            return "ConvReg maps a student map of "
                    + student.get(2)
                    + "x"
                    + student.get(3)
                    + " to "
                    + out[0]
                    + "x"
                    + out[1]
                    + ", not to the teacher's "
                    + teacher.get(2)
                    + "x"
                    + teacher.get(3);
        }
        return null;
    }

    private static Shape kernel(Kind k, Shape student, Shape teacher) {
        switch (k) {
            case STRIDED:
                return new Shape(3, 3);
            case TRANSPOSED:
                return new Shape(4, 4);
            default:
                return new Shape(
                        1 + student.get(2) - teacher.get(2), 1 + student.get(3) - teacher.get(3));
        }
    }

    /** Output (h, w) of the convolution, by PyTorch's size formulas. */
    private static long[] outSize(Kind k, Shape student, Shape teacher) {
        long h = student.get(2);
        long w = student.get(3);
        switch (k) {
            case STRIDED: // floor((x + 2 - 3) / 2) + 1
                return new long[] {Math.floorDiv(h - 1, 2) + 1, Math.floorDiv(w - 1, 2) + 1};
            case TRANSPOSED: // (x - 1) * 2 - 2 + 4
                return new long[] {2 * h, 2 * w};
            default:
                long kw = 1 + w - teacher.get(3);
                return kw < 1 ? new long[] {h, -1} : new long[] {teacher.get(2), w - kw + 1};
        }
    }

    /**
     * Returns the convolution kind.
     *
     * @return the kind
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Returns the convolution block ({@link Conv2d} or {@link ConvTranspose2d}).
     *
     * @return the block
     */
    public Block conv() {
        return conv;
    }

    /**
     * Returns the BatchNorm block.
     *
     * @return the block
     */
    public BatchNorm batchNorm() {
        return bn;
    }

    /**
     * Maps the student map: conv, BatchNorm (batch statistics when training), ReLU.
     *
     * @param ps the parameter store
     * @param inputs [(B, Cs, Hs, Ws)]
     * @param training whether BatchNorm uses and updates batch statistics
     * @param params unused
     * @return [(B, Ct, Ht, Wt)]
     */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList y = conv.forward(ps, inputs, training); // (B, Ct, Ht, Wt)
        NDArray z = bn.forward(ps, y, training).singletonOrThrow(); // (B, Ct, Ht, Wt)
        return new NDList(relu ? Activation.relu(z) : z);
    }

    /**
     * Returns the teacher map's shape for the input's batch size.
     *
     * @param inputShapes [(B, Cs, Hs, Ws)]
     * @return [(B, Ct, Ht, Wt)]
     */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {
            new Shape(
                    inputShapes[0].get(0),
                    teacherShape.get(1),
                    teacherShape.get(2),
                    teacherShape.get(3))
        };
    }

    /**
     * Initialises the convolution and the BatchNorm.
     *
     * @param manager the manager
     * @param dataType the data type
     * @param inputShapes [(B, Cs, Hs, Ws)]
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        if (in.get(1) != studentShape.get(1)
                || in.get(2) != studentShape.get(2)
                || in.get(3) != studentShape.get(3)) {
            throw new IllegalArgumentException(
                    "ConvReg built for student maps " + studentShape + ", initialised with " + in);
        }
        conv.initialize(manager, dataType, in);
        bn.initialize(manager, dataType, conv.getOutputShapes(new Shape[] {in}));
    }
}
