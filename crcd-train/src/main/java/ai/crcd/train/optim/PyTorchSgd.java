package ai.crcd.train.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SGD with momentum exactly as {@code torch.optim.SGD} (dampening 0, no Nesterov):
 *
 * <pre>
 * d = g + wd * w
 * v = d                 (first step of a parameter)
 * v = m * v + d         (later steps)
 * w = w - lr * v
 * </pre>
 *
 * <p>Unlike DJL's {@code Sgd}, the learning rate is outside the momentum buffer, so an lr change at
 * a milestone takes effect at once, as in PyTorch. The lr is set per epoch by the loop ({@link
 * #setEpoch(int)}) from a {@link MultiStepSchedule}. The momentum buffers are exposed ({@link
 * #momentum()}, {@link #setMomentum(String, NDArray)}) for exact resume.
 *
 * <p>Single device: the buffers live on the weight's device.
 */
public final class PyTorchSgd extends Optimizer {

    private final MultiStepSchedule schedule;
    private final float momentum;
    private final float weightDecay;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private float lr;

    private PyTorchSgd(Builder b) {
        super(b);
        this.schedule = b.schedule;
        this.momentum = b.momentum;
        this.weightDecay = b.weightDecay;
        this.lr = (float) schedule.lr(0);
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sets the epoch; the learning rate becomes the schedule's for that epoch.
     *
     * @param epoch the epoch index, from 0
     */
    public void setEpoch(int epoch) {
        this.lr = (float) schedule.lr(epoch);
    }

    /**
     * Returns the learning rate in effect.
     *
     * @return lr
     */
    public float lr() {
        return lr;
    }

    /**
     * Updates one parameter in place. Call outside the gradient collector.
     *
     * @param parameterId the parameter's id
     * @param weight the parameter array, updated in place
     * @param grad its gradient (same shape); read, not changed
     */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        NDArray v = buffers.get(parameterId);
        try (NDArray d = decayed(weight, grad)) {
            if (v == null || momentum == 0f) {
                if (v != null) {
                    v.close();
                }
                v = d.duplicate();
                v.attach(weight.getManager());
                buffers.put(parameterId, v);
            } else {
                v.muli(momentum).addi(d);
            }
        }
        try (NDArray step = v.mul(lr)) {
            weight.subi(step);
        }
    }

    private NDArray decayed(NDArray weight, NDArray grad) {
        if (weightDecay == 0f) {
            return grad.duplicate();
        }
        try (NDArray wd = weight.mul(weightDecay)) {
            return grad.add(wd); // (same shape as the weight)
        }
    }

    /**
     * Returns the momentum buffers by parameter id (absent before a parameter's first update).
     *
     * @return an unmodifiable view
     */
    public Map<String, NDArray> momentum() {
        return Collections.unmodifiableMap(buffers);
    }

    /**
     * Restores a momentum buffer (from a checkpoint).
     *
     * @param parameterId the parameter's id
     * @param value the buffer, same shape as the parameter; copied
     */
    public void setMomentum(String parameterId, NDArray value) {
        NDArray old = buffers.remove(parameterId);
        if (old != null) {
            old.close();
        }
        buffers.put(parameterId, value);
    }

    /**
     * Returns the device the buffers live on, or {@code null} before the first update.
     *
     * @return the device
     */
    public Device device() {
        return buffers.isEmpty() ? null : buffers.values().iterator().next().getDevice();
    }

    /** Builder: {@link #setSchedule} is required; momentum and weight decay are optional. */
    public static final class Builder extends OptimizerBuilder<Builder> {
        private MultiStepSchedule schedule;
        private float momentum = 0.9f;
        private float weightDecay = 5e-4f;

        Builder() {}

        /**
         * Sets the learning-rate schedule.
         *
         * @param schedule the schedule
         * @return this builder
         */
        public Builder setSchedule(MultiStepSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /**
         * Sets the momentum; default 0.9.
         *
         * @param momentum m in [0, 1)
         * @return this builder
         */
        public Builder optMomentum(double momentum) {
            this.momentum = (float) momentum;
            return this;
        }

        /**
         * Sets the L2 weight decay applied to every trained parameter; default 5e-4.
         *
         * @param weightDecay wd &gt;= 0
         * @return this builder
         */
        public Builder optWeightDecay(double weightDecay) {
            this.weightDecay = (float) weightDecay;
            return this;
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Builds the optimiser.
         *
         * @return the optimiser
         */
        public PyTorchSgd build() {
            if (schedule == null) {
                throw new IllegalStateException("PyTorchSgd needs a schedule");
            }
            return new PyTorchSgd(this);
        }
    }
}
