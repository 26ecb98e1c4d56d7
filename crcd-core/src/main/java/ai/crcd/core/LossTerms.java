package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named, already weighted scalar loss terms returned by a {@link Distiller} for one batch, in a
 * stable order (the order of {@link #put}). The training loop sums them and logs each by name.
 */
public final class LossTerms {

    private final Map<String, NDArray> terms = new LinkedHashMap<>();

    /**
     * Adds a term.
     *
     * @param name the term's name, e.g. {@code "kd"}, {@code "rc_feature"}
     * @param value a scalar (shape ()) already multiplied by its weight
     * @return this
     * @throws IllegalArgumentException if the name is already present
     */
    public LossTerms put(String name, NDArray value) {
        if (terms.putIfAbsent(name, value) != null) {
            throw new IllegalArgumentException("duplicate loss term: " + name);
        }
        return this;
    }

    /**
     * Returns the terms in insertion order.
     *
     * @return an unmodifiable view
     */
    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(terms);
    }

    /**
     * Returns whether there is no term.
     *
     * @return {@code true} when empty
     */
    public boolean isEmpty() {
        return terms.isEmpty();
    }

    /**
     * Returns the sum of all terms.
     *
     * @return a scalar, or {@code null} when there is no term
     */
    public NDArray total() {
        NDArray sum = null;
        for (NDArray v : terms.values()) {
            sum = sum == null ? v : sum.add(v);
        }
        return sum;
    }
}
