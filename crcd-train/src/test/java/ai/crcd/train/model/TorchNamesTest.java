package ai.crcd.train.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.crcd.models.Models;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * PyTorch names against RepDistiller's {@code state_dict()} keys and shapes, written out here from
 * its {@code wrn.py} and {@code vgg.py} (without BatchNorm's {@code num_batches_tracked}).
 */
class TorchNamesTest {

    private static final List<String> BN = List.of("weight", "bias", "running_mean", "running_var");

    /** PyTorch name to shape for a crcd network. */
    private static Map<String, long[]> exported(String arch) {
        try (NDManager m = NDManager.newBaseManager()) {
            Block net = Models.create(arch, 10, 3);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            Map<String, String> names = TorchNames.of(arch, net);
            Map<String, long[]> out = new HashMap<>();
            for (Pair<String, Parameter> p : net.getParameters()) {
                out.put(names.get(p.getKey()), p.getValue().getArray().getShape().getShape());
            }
            return out;
        }
    }

    @Test
    void wideResNetNamesAndShapesAreRepDistillers() {
        Map<String, long[]> got = exported("wrn_16_1");
        TreeSet<String> expected = new TreeSet<>();
        expected.add("conv1.weight");
        for (int b = 1; b <= 3; b++) {
            for (int i = 0; i < 2; i++) {
                String p = "block" + b + ".layer." + i + ".";
                expected.add(p + "conv1.weight");
                expected.add(p + "conv2.weight");
                BN.forEach(s -> expected.add(p + "bn1." + s));
                BN.forEach(s -> expected.add(p + "bn2." + s));
            }
            if (b > 1) {
                expected.add("block" + b + ".layer.0.convShortcut.weight");
            }
        }
        BN.forEach(s -> expected.add("bn1." + s));
        expected.add("fc.weight");
        expected.add("fc.bias");
        assertEquals(expected, new TreeSet<>(got.keySet()));
        // bn1 of a block's first layer normalises the block's input (pre-activation)
        assertArrayEquals(new long[] {16}, got.get("block1.layer.0.bn1.weight"));
        assertArrayEquals(new long[] {16}, got.get("block2.layer.0.bn1.running_mean"));
        assertArrayEquals(new long[] {32}, got.get("block2.layer.1.bn1.weight"));
        assertArrayEquals(new long[] {32}, got.get("block3.layer.0.bn1.weight"));
        assertArrayEquals(new long[] {64}, got.get("bn1.running_var"));
        assertArrayEquals(new long[] {32, 16, 3, 3}, got.get("block2.layer.0.conv1.weight"));
        assertArrayEquals(new long[] {64, 32, 1, 1}, got.get("block3.layer.0.convShortcut.weight"));
        assertArrayEquals(new long[] {10, 64}, got.get("fc.weight"));
    }

    @Test
    void vggNamesAndShapesAreRepDistillers() {
        Map<String, long[]> got = exported("vgg13"); // two convs per block
        TreeSet<String> expected = new TreeSet<>();
        for (int b = 0; b < 5; b++) {
            for (int j = 0; j < 2; j++) {
                expected.add("block" + b + "." + 3 * j + ".weight");
                expected.add("block" + b + "." + 3 * j + ".bias");
                int bn = 3 * j + 1;
                final int blk = b;
                BN.forEach(s -> expected.add("block" + blk + "." + bn + "." + s));
            }
        }
        expected.add("classifier.weight");
        expected.add("classifier.bias");
        assertEquals(expected, new TreeSet<>(got.keySet()));
        assertArrayEquals(new long[] {64, 3, 3, 3}, got.get("block0.0.weight"));
        assertArrayEquals(new long[] {64, 64, 3, 3}, got.get("block0.3.weight"));
        assertArrayEquals(new long[] {128}, got.get("block1.4.running_mean"));
        assertArrayEquals(new long[] {10, 512}, got.get("classifier.weight"));
    }

    @Test
    void otherArchitecturesGetUniqueGenericNames() {
        assertEquals(
                "stage1.0.branch.0.bn.running_mean",
                TorchNames.generic("02stage1_01ResidualUnit_01branch_01ConvBn_02bn_runningMean"));
        for (String arch : List.of("MobileNetV2", "ShuffleV1", "ShuffleV2", "resnet8x4")) {
            Map<String, long[]> got = exported(arch); // a clash would throw
            assertEquals(got.size(), new TreeSet<>(got.keySet()).size(), arch);
        }
    }
}
