package ai.crcd.core.crd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;

/**
 * Uniform initialiser U(-bound, bound) drawn from a {@link SeededRandom}, so that the distiller's
 * parameters depend on {@code DistillSetup.seed()} only. With {@code bound = 1/sqrt(fan_in)} it is
 * PyTorch's default for {@code nn.Linear} (weight and bias).
 */
final class SeededUniformInitializer implements Initializer {

    private final double bound;
    private final SeededRandom random;

    /**
     * Creates the initialiser.
     *
     * @param bound the half width
     * @param random the generator, shared by the parameters it initialises
     */
    SeededUniformInitializer(double bound, SeededRandom random) {
        this.bound = bound;
        this.random = random;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        float[] values = new float[Math.toIntExact(shape.size())];
        random.fillUniform(values, bound);
        return manager.create(values, shape).toType(dataType, false);
    }
}
