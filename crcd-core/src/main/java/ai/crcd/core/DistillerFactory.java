package ai.crcd.core;

/**
 * Creates one distillation method from its config options. Implementations are registered as Java
 * services ({@code META-INF/services/ai.crcd.core.DistillerFactory}) so that {@link Distillers}
 * finds them and the training loop never names a method.
 */
public interface DistillerFactory {

    /**
     * Returns the method names this factory creates, e.g. {@code ["crcd", "frcd", "grcd"]}.
     *
     * @return the names, lower case
     */
    java.util.List<String> names();

    /**
     * Creates a distiller. Implementations read every option through {@code options} and end with
     * {@link DistillerOptions#checkNoUnknownKeys()}.
     *
     * @param name one of {@link #names()}
     * @param options the method's options (weights, temperatures, sizes)
     * @return a new, uninitialised distiller
     * @throws IllegalArgumentException for a bad option, with the key, value and what is allowed
     */
    Distiller create(String name, DistillerOptions options);
}
