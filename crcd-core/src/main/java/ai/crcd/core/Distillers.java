package ai.crcd.core;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Finds distillation methods by name among the registered {@link DistillerFactory} services. */
public final class Distillers {

    private Distillers() {}

    /**
     * Returns every registered method name with its factory, sorted by name.
     *
     * @return name to factory
     */
    public static Map<String, DistillerFactory> registry() {
        Map<String, DistillerFactory> map = new TreeMap<>();
        for (DistillerFactory f :
                ServiceLoader.load(DistillerFactory.class, Distillers.class.getClassLoader())) {
            for (String n : f.names()) {
                map.put(n, f);
            }
        }
        return map;
    }

    /**
     * Creates a method by name.
     *
     * @param name the method, e.g. {@code "kd"}
     * @param options its options
     * @return a new distiller
     * @throws IllegalArgumentException for an unknown name (listing the known ones) or bad option
     */
    public static Distiller create(String name, DistillerOptions options) {
        Map<String, DistillerFactory> reg = registry();
        DistillerFactory f = reg.get(name);
        if (f == null) {
            throw new IllegalArgumentException(
                    "unknown distillation method '" + name + "', allowed: " + reg.keySet());
        }
        return f.create(name, options);
    }
}
