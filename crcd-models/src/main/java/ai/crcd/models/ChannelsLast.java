package ai.crcd.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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

    /** Whether inputs are converted; {@code -Dcrcd.models.channelsLast=false} turns it off. */
    static final boolean ENABLED = !"false".equals(System.getProperty("crcd.models.channelsLast"));

    private ChannelsLast() {}

    /**
     * Returns the inputs with the first array in channels-last order where that applies.
     *
     * @param inputs [x (B, C, H, W), ...]
     * @return [x in channels-last order, ...], or {@code inputs} unchanged
     */
    static NDList of(NDList inputs) {
        NDArray x = inputs.head();
        if (!ENABLED
                || x.getShape().dimension() != 4
                || x.getDataType() != DataType.FLOAT32
                || !Device.Type.CPU.equals(x.getDevice().getDeviceType())) {
            return inputs;
        }
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        // (B, H, W, C) view -> one contiguous copy -> (B, C, H, W) view with strides (HWC, 1, WC,
        // C)
        NDArray t = x.transpose(0, 2, 3, 1); // (B, H, W, C) view
        NDArray flat = t.reshape(b, h * w * c); // (B, HWC) contiguous copy
        NDArray nhwc = flat.reshape(b, h, w, c); // (B, H, W, C) view of the copy
        NDArray cl = nhwc.transpose(0, 3, 1, 2); // (B, C, H, W) view of the copy
        NDList kept = new NDList(x, cl);
        Chain.release(t, kept);
        Chain.release(flat, kept);
        Chain.release(nhwc, kept);
        NDList out = new NDList(inputs.size());
        out.add(cl);
        for (int i = 1; i < inputs.size(); i++) {
            out.add(inputs.get(i));
        }
        return out;
    }
}
