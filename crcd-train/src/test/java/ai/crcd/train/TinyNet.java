package ai.crcd.train;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/** Test fixture: conv-BN-ReLU stem, one conv-BN-ReLU stage, mean pool, linear head. */
final class TinyNet extends AbstractBlock implements DistillableNetwork {

    private final int classes;
    private final int width;
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final Conv2d conv2;
    private final BatchNorm bn2;
    private final Linear fc;

    TinyNet(int classes, int width) {
        this.classes = classes;
        this.width = width;
        conv1 = addChildBlock("conv1", conv(width));
        bn1 = addChildBlock("bn1", BatchNorm.builder().build());
        conv2 = addChildBlock("conv2", conv(width));
        bn2 = addChildBlock("bn2", BatchNorm.builder().build());
        fc = addChildBlock("fc", Linear.builder().setUnits(classes).build());
    }

    private static Conv2d conv(int width) {
        return Conv2d.builder()
                .setKernelShape(new Shape(3, 3))
                .optPadding(new Shape(1, 1))
                .setFilters(width)
                .build();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = conv1.forward(ps, inputs, training);
        NDArray stem =
                bn1.forward(ps, x, training).head().getNDArrayInternal().relu(); // (B, W, H, W)
        NDList y = conv2.forward(ps, new NDList(stem), training);
        NDArray stage = bn2.forward(ps, y, training).head().getNDArrayInternal().relu();
        NDArray pooled = stage.mean(new int[] {3}).mean(new int[] {2}); // (B, W)
        NDArray logits = fc.forward(ps, new NDList(pooled), training).head(); // (B, C)
        return FeatureOutput.of(logits, pooled, stem, List.of(stage), List.of()).toNDList();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        long b = in[0].get(0);
        Shape map = new Shape(b, width, in[0].get(2), in[0].get(3));
        return new Shape[] {new Shape(b, classes), new Shape(b, width), map, map};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dt, Shape... in) {
        conv1.initialize(manager, dt, in);
        Shape map = new Shape(in[0].get(0), width, in[0].get(2), in[0].get(3));
        bn1.initialize(manager, dt, map);
        conv2.initialize(manager, dt, map);
        bn2.initialize(manager, dt, map);
        fc.initialize(manager, dt, new Shape(in[0].get(0), width));
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public int featureDim() {
        return width;
    }

    @Override
    public Parameter classifierWeight() {
        return fc.getParameters().get("weight");
    }
}
