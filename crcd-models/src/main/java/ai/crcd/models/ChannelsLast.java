package ai.crcd.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import java.util.Set;

/**
 * Puts a network's input into channels-last memory order (PyTorch's {@code torch.channels_last}):
 * the same (B, C, H, W) array with the channels innermost in memory.
 *
 * <p>libtorch's CPU convolutions (oneDNN) work on channels-last data directly; from the default (B,
 * C, H, W) order every convolution reorders its input and output to and from oneDNN's blocked
 * layout, forward and backward, which was a third of a CIFAR ResNet's convolution time on the
 * project's CPU (docs/performance.md, "Channels-last"). Convolutions, batch norm, ReLU, additions
 * and pooling keep the order of their input, so converting the input once puts the whole network in
 * it. Values are the same function; only the rounding of the convolution kernels may differ.
 *
 * <p>Applied to float32 inputs on the CPU (float64 has no channels-last oneDNN kernels; GPUs gain
 * from it only with reduced precision). {@code -Dcrcd.models.channelsLast=false} keeps the default
 * order (for measurements).
 */
final class ChannelsLast {

    /**
     * Whether inputs and weights are converted; {@code -Dcrcd.models.channelsLast=false} turns it
     * off (tests set it).
     */
    static boolean enabled = !"false".equals(System.getProperty("crcd.models.channelsLast"));

    private ChannelsLast() {}

    /**
     * Replaces every float32 CPU parameter of rank 4 (convolution weights) by a channels-last copy
     * of itself; values, names and gradient flags are unchanged. A channels-last input with (B, C,
     * H, W)-ordered weights makes libtorch reorder every weight forward and its gradient backward
     * (docs/performance.md, "Channels-last"). Called by {@link CifarNetwork} after {@code
     * initialize} and after {@code loadParameters} (DJL's decoder returns (B, C, H, W) order);
     * in-place updates (optimisers, crcd-train's checkpoint restore) keep the order, and saved
     * files hold the default order ({@code NDArray.encode} writes contiguous bytes).
     *
     * @param block an initialised block
     * @param converted the arrays this method made for the block before (compared by identity):
     *     they are kept, so that a second {@code initialize} leaves the parameters alone; updated
     */
    static void parameters(Block block, Set<NDArray> converted) {
        if (!enabled) {
            return;
        }
        for (Parameter p : block.getParameters().values()) {
            NDArray w = p.getArray();
            if (w == null || !applies(w) || converted.contains(w)) {
                continue; // an array converted before stays: others may hold it (a store, a step)
            }
            NDArray cl;
            try (NDManager tmp = w.getManager().newSubManager()) {
                NDArray d = w.stopGradient();
                d.attach(tmp);
                // an array of its own: a decoded parameter may live in a Java buffer that goes
                // with it, and for 1x1 kernels the reordering is a view of that memory
                cl = toChannelsLast(d).duplicate();
                cl.attach(w.getManager());
            }
            // Parameter has no setter once set: close it and initialise it with the copy
            Initializer own = p.getInitializer();
            p.close();
            p.setInitializer((m, shape, type) -> cl);
            p.initialize(cl.getManager(), cl.getDataType());
            p.setInitializer(own);
            converted.remove(w);
            converted.add(cl);
        }
    }

    private static boolean applies(NDArray x) {
        return enabled
                && x.getShape().dimension() == 4
                && x.getDataType() == DataType.FLOAT32
                && Device.Type.CPU.equals(x.getDevice().getDeviceType());
    }

    /**
     * (B, C, H, W) in any order -> the same values with strides (HWC, 1, WC, C); the intermediate
     * handles are closed.
     */
    private static NDArray toChannelsLast(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray t = x.transpose(0, 2, 3, 1); // (B, H, W, C) view
        NDArray flat = t.reshape(b, h * w * c); // (B, HWC) contiguous copy (a view for 1x1)
        NDArray nhwc = flat.reshape(b, h, w, c); // (B, H, W, C) view of the copy
        NDArray cl = nhwc.transpose(0, 3, 1, 2); // (B, C, H, W) view of the copy
        NDList kept = new NDList(x, cl);
        Chain.release(t, kept);
        Chain.release(flat, kept);
        Chain.release(nhwc, kept);
        return cl;
    }

    /**
     * Returns the inputs with the first array in channels-last order where that applies.
     *
     * @param inputs [x (B, C, H, W), ...]
     * @return [x in channels-last order, ...], or {@code inputs} unchanged
     */
    static NDList of(NDList inputs) {
        NDArray x = inputs.head();
        if (!applies(x)) {
            return inputs;
        }
        NDList out = new NDList(inputs.size());
        out.add(toChannelsLast(x));
        for (int i = 1; i < inputs.size(); i++) {
            out.add(inputs.get(i));
        }
        return out;
    }
}
