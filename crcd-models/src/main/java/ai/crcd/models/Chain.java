package ai.crcd.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A {@link SequentialBlock} that closes each intermediate output once the next block has consumed
 * it, as PyTorch frees a temporary when its last Python reference goes.
 *
 * <p>DJL keeps every array of a step attached to the step's manager until the step ends, so a
 * network's forward holds all its activations at once and writes each into fresh memory: on the CPU
 * that costs cache misses and page faults on every output (docs/performance.md, "Freeing
 * activations"). Closing an array only drops this handle: with the PyTorch engine, autograd keeps
 * its own reference to what backward needs, so gradients are unchanged. Never closed: the block's
 * input, and any array the next block returns itself (a block that passes its input through).
 *
 * <p>{@link #release(NDArray, NDList)} is the same rule for blocks that chain by hand ({@link
 * ConvBn}, {@link ResidualUnit}, the units of every network, {@link CifarNetwork} itself). A Chain
 * may only replace a SequentialBlock that is registered under an explicit name ({@code
 * addChildBlock("stage1", ...)}): {@code SequentialBlock.add} names a child after its class, so
 * there it would rename the parameters of saved models. Setting the system property {@code
 * crcd.models.release} to {@code false} keeps every intermediate (for measurements).
 */
final class Chain extends SequentialBlock {

    /**
     * Whether intermediates are closed; {@code -Dcrcd.models.release=false} keeps them. Read at
     * every forward, so it does not change what a network is built of (its parameter names); only
     * tests change it, to compare both ways in one JVM.
     */
    static boolean enabled = !"false".equals(System.getProperty("crcd.models.release"));

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList current = inputs;
        for (Block block : getChildren().values()) {
            NDList next = block.forward(ps, current, training);
            if (current != inputs) {
                for (NDArray a : current) {
                    release(a, next);
                }
            }
            current = next;
        }
        return current;
    }

    /**
     * Closes an intermediate array unless it is one of the arrays still in use.
     *
     * @param a the consumed intermediate
     * @param kept the arrays that stay (the block's input or output); compared by identity
     */
    static void release(NDArray a, NDList kept) {
        if (!enabled) {
            return;
        }
        for (NDArray k : kept) {
            if (k == a) {
                return;
            }
        }
        a.close();
    }
}
