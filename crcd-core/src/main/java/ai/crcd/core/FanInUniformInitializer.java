package ai.crcd.core;

import ai.djl.training.initializer.UniformInitializer;

/**
 * PyTorch's default initialisation of {@code nn.Linear} and {@code nn.Conv2d}, for weights and
 * biases alike: uniform in {@code +-1/sqrt(fan_in)}. (For the weight PyTorch calls {@code
 * kaiming_uniform_(a = sqrt(5))}, whose bound {@code sqrt(6 / ((1 + a^2) fan_in))} is exactly
 * {@code 1/sqrt(fan_in)}; the bias uses the same bound.) {@code fan_in} is the input size of the
 * layer the parameter belongs to ({@code in_features}, or {@code in_channels * kh * kw} for a
 * convolution), also for its bias.
 *
 * <p>The fan-in is given explicitly rather than read from the parameter's shape, because the
 * shape's layout differs between blocks: DJL's {@code Linear} stores its weight as (out, in),
 * crcd-core's relation networks and critics store theirs as (in, out). The values come from the
 * engine's generator ({@code NDManager.randomUniform}), so they are fixed by {@code
 * Engine.setRandomSeed} like every other DJL initialiser.
 */
public final class FanInUniformInitializer extends UniformInitializer {

    private final long fanIn;

    /**
     * Creates the initialiser of one layer's parameters.
     *
     * @param fanIn the layer's input size, &gt;= 1
     * @throws IllegalArgumentException for a fan-in below 1
     */
    public FanInUniformInitializer(long fanIn) {
        super(bound(fanIn));
        this.fanIn = fanIn;
    }

    /**
     * Returns the half width {@code 1/sqrt(fanIn)}.
     *
     * @param fanIn the layer's input size, &gt;= 1
     * @return the bound
     * @throws IllegalArgumentException for a fan-in below 1
     */
    public static float bound(long fanIn) {
        if (fanIn < 1) {
            throw new IllegalArgumentException("fan-in must be >= 1, got " + fanIn);
        }
        return (float) (1.0 / Math.sqrt(fanIn));
    }

    /**
     * Returns the fan-in this initialiser was made for.
     *
     * @return the fan-in
     */
    public long fanIn() {
        return fanIn;
    }
}
