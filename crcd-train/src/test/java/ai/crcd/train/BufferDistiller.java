package ai.crcd.train;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import java.util.List;

/**
 * Test fixture method {@code testbuf}: KD, a trained linear hint (student pooled -> teacher pooled)
 * and a term that reads a FIFO buffer of past student features, so that a resume that lost the
 * buffer or the auxiliary parameters would give different numbers.
 */
public final class BufferDistiller implements Distiller {

    private final double kdWeight;
    private final double hintWeight;
    private Linear hint;
    private NDManager manager;
    private NDArray buffer; // (Q, Ds)

    BufferDistiller(double kdWeight, double hintWeight) {
        this.kdWeight = kdWeight;
        this.hintWeight = hintWeight;
    }

    @Override
    public String name() {
        return "testbuf";
    }

    @Override
    public void initialize(NDManager manager, DistillSetup setup) {
        this.manager = manager;
        hint = Linear.builder().setUnits(setup.teacherDim()).build();
        hint.initialize(manager, DataType.FLOAT32, new Shape(1, setup.studentDim()));
        buffer = manager.zeros(new Shape(8, setup.studentDim()));
    }

    @Override
    public Block auxiliaryBlock() {
        return hint;
    }

    @Override
    public LossTerms losses(DistillBatch batch) {
        NDArray fs = batch.student().pooled(); // (B, Ds)
        NDArray ft = batch.teacher().pooled(); // (B, Dt)
        NDArray mapped = hint.forward(batch.parameterStore(), new NDList(fs), true).head();
        NDArray hintLoss = mapped.sub(ft).square().mean().mul(Scalars.of(fs, hintWeight));
        NDArray bt = buffer.transpose(); // (Ds, Q)
        bt.attach(batch.manager());
        NDArray bufTerm = fs.matMul(bt).square().mean().mul(Scalars.of(fs, 0.01)); // (B, Q) -> ()
        NDArray ps = batch.student().logits().logSoftmax(1); // (B, C)
        NDArray pt = batch.teacher().logits().softmax(1); // (B, C)
        NDArray kd = pt.mul(ps).sum().mul(Scalars.of(fs, -kdWeight / fs.getShape().get(0)));
        return new LossTerms().put("kd", kd).put("hint", hintLoss).put("buf", bufTerm);
    }

    @Override
    public void afterStep(DistillBatch batch) {
        NDArray fs = batch.student().pooled().stopGradient(); // (B, Ds)
        long q = buffer.getShape().get(0);
        long b = Math.min(q, fs.getShape().get(0));
        NDArray next;
        try (NDArray keep = buffer.get(b + ":")) { // (Q - b, Ds)
            next = keep.concat(fs.get(":" + b)); // (Q, Ds)
        }
        next.attach(manager);
        buffer.close();
        buffer = next;
    }

    @Override
    public NDList state() {
        return new NDList(buffer);
    }

    @Override
    public void loadState(NDList state) {
        NDArray b = state.head().duplicate();
        b.attach(manager);
        buffer.close();
        buffer = b;
    }

    /** Factory for {@code testbuf}. */
    public static final class Factory implements DistillerFactory {
        @Override
        public List<String> names() {
            return List.of("testbuf");
        }

        @Override
        public Distiller create(String name, DistillerOptions options) {
            double kd = options.getDouble("kd_weight", 1.0, 0);
            double hint = options.getDouble("hint_weight", 1.0, 0);
            options.checkNoUnknownKeys();
            return new BufferDistiller(kd, hint);
        }
    }
}
