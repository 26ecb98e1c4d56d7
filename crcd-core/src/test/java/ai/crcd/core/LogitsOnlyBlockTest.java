package ai.crcd.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

/** The logits-only view: one output, and the wrapped network's parameter stream on disk. */
class LogitsOnlyBlockTest {

    /** Returns [logits = W x + b, x]: two outputs, as a FeatureOutput network does. */
    private static final class TwoOutputs extends AbstractBlock {
        private final Linear fc;

        TwoOutputs() {
            fc = addChildBlock("fc", Linear.builder().setUnits(3).build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            return new NDList(fc.forward(ps, in, training).get(0), in.get(0));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] in) {
            return new Shape[] {new Shape(in[0].get(0), 3), in[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager m, DataType t, Shape... in) {
            fc.initialize(m, t, in);
        }
    }

    private static byte[] save(ai.djl.nn.Block b) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            b.saveParameters(out);
        }
        return bytes.toByteArray();
    }

    @Test
    void returnsOnlyTheLogitsAndReadsTheBareNetworksParameters() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            TwoOutputs net = new TwoOutputs();
            net.initialize(m, DataType.FLOAT32, new Shape(2, 4));
            NDArray x = m.randomNormal(new Shape(2, 4));
            float[] logits = net.forward(ps, new NDList(x), false).get(0).toFloatArray();

            LogitsOnlyBlock view = new LogitsOnlyBlock(net);
            NDList out = view.forward(ps, new NDList(x), false);
            assertEquals(1, out.size());
            assertArrayEquals(logits, out.singletonOrThrow().toFloatArray());
            assertEquals(new Shape(2, 3), view.getOutputShapes(new Shape[] {new Shape(2, 4)})[0]);

            // a file of the bare network loads into a fresh view, and the view writes the same
            // bytes
            byte[] bare = save(net);
            LogitsOnlyBlock fresh = new LogitsOnlyBlock(new TwoOutputs());
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bare))) {
                fresh.loadParameters(m, in);
            }
            assertTrue(fresh.isInitialized());
            assertArrayEquals(
                    logits, fresh.forward(ps, new NDList(x), false).get(0).toFloatArray());
            assertArrayEquals(bare, save(fresh));
        }
    }
}
