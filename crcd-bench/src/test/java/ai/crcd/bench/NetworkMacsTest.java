package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.models.Models;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Multiply-add counts from the shapes against counts worked out by hand. */
class NetworkMacsTest {

    @Test
    void smallConvNetMatchesHandCount() {
        SequentialBlock net =
                new SequentialBlock()
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(3, 3))
                                        .optPadding(new Shape(1, 1))
                                        .setFilters(4)
                                        .build())
                        .add(BatchNorm.builder().build())
                        .add(Activation::relu)
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(3, 3))
                                        .optStride(new Shape(2, 2))
                                        .optPadding(new Shape(1, 1))
                                        .setFilters(8)
                                        .build())
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(3, 3))
                                        .optPadding(new Shape(1, 1))
                                        .optGroups(2)
                                        .setFilters(8)
                                        .build())
                        .add(Pool.globalAvgPool2dBlock())
                        .add(Blocks.batchFlattenBlock())
                        .add(Linear.builder().setUnits(10).build());
        try (NDManager m = NDManager.newBaseManager()) {
            net.initialize(m, DataType.FLOAT32, new Shape(2, 3, 8, 8));
            NetworkMacs macs = NetworkMacs.count(net);
            long conv1 = 8 * 8 * 4 * 3 * 9; // 8x8 output, 4 filters, 3 inputs, 3x3 = 6912
            long conv2 = 4 * 4 * 8 * 4 * 9; // stride 2: 4x4 output, 8 filters, 4 inputs = 4608
            long conv3 = 4 * 4 * 8 * (8 / 2) * 9; // 2 groups: 4 inputs per filter = 4608
            long fc = 8 * 10;
            assertEquals(conv1 + conv2 + conv3 + fc, macs.forward());
            assertEquals(16_208, macs.forward());
            assertEquals(conv1, macs.firstLayer());
            assertEquals(3 * 16_208 - 6912, macs.forwardBackward());
        }
    }

    @Test
    void cifarResNetsMatchHandCount() {
        // resnet20: stem 32*32*16*3*9; stage 1: 6 convs 32*32*16*16*9; stage 2: 16->32 stride 2
        // (16*16*32*16*9) + 5 convs 16*16*32*32*9 + 1x1 shortcut 16*16*32*16; stage 3 likewise at
        // 8x8 with 64 channels; fc 64*100
        long stem = 442_368;
        long conv = 2_359_296; // every full-width 3x3 conv of the three stages
        long stage2 = 1_179_648 + 5 * conv + 131_072;
        long stage3 = 1_179_648 + 5 * conv + 131_072;
        long resnet20 = stem + 6 * conv + stage2 + stage3 + 6400;
        assertEquals(40_818_944L, resnet20);
        long resnet56 = stem + 18 * conv + 2 * (1_179_648 + 17 * conv + 131_072) + 6400;
        try (NDManager m = NDManager.newBaseManager()) {
            DistillableNetwork s = Models.create("resnet20", 100, 3);
            s.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            DistillableNetwork t = Models.create("resnet56", 100, 3);
            t.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            assertEquals(new NetworkMacs(resnet20, stem), NetworkMacs.count(s));
            assertEquals(new NetworkMacs(resnet56, stem), NetworkMacs.count(t));

            StepMacs step =
                    new StepMacs(64, NetworkMacs.count(t), NetworkMacs.count(s), 64, 64, 100);
            long kd = step.perStep(spec("kd", Map.of())).getAsLong();
            assertEquals(64 * (3 * resnet20 - stem) + 64 * resnet56, kd);
            assertEquals(15_857_156_096L, kd); // issue 15's "~16 G MACs"
            assertEquals(
                    64 * (3 * resnet20 - stem),
                    step.perStep(spec("vanilla", Map.of())).getAsLong());
        }
    }

    @Test
    void methodExtrasFollowTheDocumentedFormula() {
        // B = 2, N = 3, R = 4, C = 5, Dt = 6, Ds = 7, 10 classes; networks of 100 / 10 MACs
        StepMacs step = new StepMacs(2, new NetworkMacs(100, 0), new NetworkMacs(10, 1), 6, 7, 10);
        long kd = step.perStep(spec("kd", Map.of())).getAsLong();
        assertEquals(2 * (30 - 1) + 2 * 100, kd);
        Map<String, Object> o = Map.of("negatives", 3, "relation_dim", 4, "critic_dim", 5);
        // one element, product by product (rows x in x out, times its passes):
        long projections =
                3 * 2 * (2 * 6 * 4) // three teacher-side maps, forward + weight gradient
                        + 2 * (5 * 7 * 4) // [s; q] (B + N = 5 rows): forward + weight gradient
                        + 2 * 7 * 4; // input gradient of the B student rows
        long hidden = 3 * (2 * 2 + 2 * 5) * 4 * 5; // (B,B,R) and (B,B+N,R) through (R,C), 3 passes
        long folding = 2 * 3 * 4 * 4 * 5; // W V per head
        long scores = 3 * (2 * 2 + 2 * 2 * 3) * 5; // (B,B) and (B,B,N) dot products over C
        long element = projections + hidden + folding + scores;
        long gradient = 3 * 2 * 10 * 7 + 2 * 10 * 6;
        assertEquals(kd + element, step.perStep(spec("frcd", o)).getAsLong());
        assertEquals(kd + element + gradient, step.perStep(spec("grcd", o)).getAsLong());
        assertEquals(kd + 2 * element + gradient, step.perStep(spec("crcd", o)).getAsLong());
        // CRD: embeddings 3*B*Ds*F + 2*B*Dt*F, scores 2 sides x 2 passes x B (K+1) F
        long crd = 3 * 2 * 7 * 8 + 2 * 2 * 6 * 8 + 4 * 2 * 5 * 8;
        assertEquals(
                kd + crd,
                step.perStep(spec("crd_kd", Map.of("nce_k", 4, "feat_dim", 8))).getAsLong());
        assertEquals(false, step.perStep(spec("fitnet", Map.of())).isPresent());
    }

    @Test
    void uninitialisedLayerIsNamed() {
        Linear l = Linear.builder().setUnits(3).build();
        assertThrows(IllegalStateException.class, () -> NetworkMacs.count(l));
    }

    private static MethodSpec spec(String method, Map<String, Object> options) {
        return new MethodSpec(method, method, 1.0, options, List.of());
    }
}
