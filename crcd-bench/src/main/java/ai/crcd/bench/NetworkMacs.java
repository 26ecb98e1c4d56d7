package ai.crcd.bench;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;

/**
 * The multiply-adds of one forward pass of a network, per sample, counted from the shapes of its
 * convolutions and linear layers (docs/benchmarks.md, "Multiply-adds").
 *
 * <p>A convolution with input (1, Cin, H, W), output (1, Cout, H', W'), kernel kh x kw and g groups
 * costs {@code Cout H' W' (Cin / g) kh kw}; a linear layer (in -&gt; out) costs {@code in out} per
 * row. Biases, normalisation, activations and pooling are not multiply-adds of a product and are
 * left out. The shapes are those each layer was initialised with, so the network must be
 * initialised (with batch 1 or any batch: the count is divided by the batch).
 *
 * @param forward the multiply-adds of one forward pass per sample
 * @param firstLayer the multiply-adds of the first counted layer (the one reading the input, whose
 *     input needs no gradient in a backward pass)
 */
public record NetworkMacs(long forward, long firstLayer) {

    /**
     * Counts the multiply-adds of an initialised network.
     *
     * @param network the network, initialised
     * @return the counts per sample
     * @throws IllegalStateException if a convolution or linear layer was not initialised
     */
    public static NetworkMacs count(Block network) {
        long[] acc = new long[2]; // total, first layer
        boolean[] seen = new boolean[1];
        visit(network, acc, seen);
        return new NetworkMacs(acc[0], acc[1]);
    }

    /**
     * Returns the multiply-adds of one training step's forward and backward pass per sample: the
     * forward, the weight gradients (as many as the forward) and the input gradients of every layer
     * except the first.
     *
     * @return {@code 3 forward - firstLayer}
     */
    public long forwardBackward() {
        return 3 * forward - firstLayer;
    }

    private static void visit(Block block, long[] acc, boolean[] seen) {
        long own = layerMacs(block);
        if (own >= 0) {
            acc[0] += own;
            if (!seen[0]) {
                acc[1] = own;
                seen[0] = true;
            }
            return;
        }
        for (Block child : block.getChildren().values()) {
            visit(child, acc, seen);
        }
    }

    /**
     * Returns the multiply-adds per sample of a convolution or linear layer, -1 for other blocks.
     */
    private static long layerMacs(Block block) {
        if (!(block instanceof Convolution) && !(block instanceof Linear)) {
            return -1;
        }
        Shape[] in = block.getInputShapes();
        if (in == null || in.length == 0) {
            throw new IllegalStateException(
                    "multiply-adds: " + block + " is not initialised; initialise the network");
        }
        Shape x = in[0];
        Shape y = block.getOutputShapes(in)[0];
        long batch = x.get(0);
        if (block instanceof Convolution conv) {
            long kernel = conv.getKernelShape().size();
            long inPerGroup = x.get(1) / conv.getGroups();
            return y.size() / batch * inPerGroup * kernel; // Cout H' W' (Cin/g) kh kw
        }
        return y.size() / batch * x.get(x.dimension() - 1); // rows x out x in
    }
}
