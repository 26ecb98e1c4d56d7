package ai.crcd.core;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of one distiller as read from a config ({@code distill.options} in YAML), with typed
 * getters that record which keys were read, so that a factory can reject unknown keys.
 *
 * <p>Every error is an {@link IllegalArgumentException} whose message names the key (prefixed with
 * {@link #path()}), the value and what is allowed.
 */
public final class DistillerOptions {

    private final String path;
    private final Map<String, Object> values;
    private final Set<String> read = new LinkedHashSet<>();

    /**
     * Creates options.
     *
     * @param path the config path of this map for error messages, e.g. {@code "distill.options"}
     * @param values the raw values (numbers, strings, booleans, lists)
     */
    public DistillerOptions(String path, Map<String, ?> values) {
        this.path = path;
        this.values = values == null ? Map.of() : new LinkedHashMap<>(values);
    }

    /**
     * Returns empty options.
     *
     * @return options without keys
     */
    public static DistillerOptions empty() {
        return new DistillerOptions("distill.options", Map.of());
    }

    /**
     * Returns the config path used in messages.
     *
     * @return the path
     */
    public String path() {
        return path;
    }

    /**
     * Returns the raw values.
     *
     * @return an unmodifiable view
     */
    public Map<String, Object> values() {
        return Collections.unmodifiableMap(values);
    }

    private IllegalArgumentException bad(String key, Object value, String allowed) {
        return new IllegalArgumentException(
                path + "." + key + ": got '" + value + "', allowed: " + allowed);
    }

    /**
     * Reads a real number.
     *
     * @param key the key
     * @param def the default when absent
     * @param min the smallest allowed value (inclusive)
     * @return the value
     */
    public double getDouble(String key, double def, double min) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (!(v instanceof Number)) {
            throw bad(key, v, "a number >= " + min);
        }
        double d = ((Number) v).doubleValue();
        if (!(d >= min) || Double.isInfinite(d)) {
            throw bad(key, v, "a number >= " + min);
        }
        return d;
    }

    /**
     * Reads a real number that must be strictly positive.
     *
     * @param key the key
     * @param def the default
     * @return the value
     */
    public double getPositiveDouble(String key, double def) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (!(v instanceof Number) || !(((Number) v).doubleValue() > 0)) {
            throw bad(key, v, "a number > 0");
        }
        return ((Number) v).doubleValue();
    }

    /**
     * Reads an integer.
     *
     * @param key the key
     * @param def the default
     * @param min the smallest allowed value
     * @return the value
     */
    public int getInt(String key, int def, int min) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short)
                || ((Number) v).longValue() < min
                || ((Number) v).longValue() > Integer.MAX_VALUE) {
            throw bad(key, v, "an integer >= " + min);
        }
        return ((Number) v).intValue();
    }

    /**
     * Reads a boolean.
     *
     * @param key the key
     * @param def the default
     * @return the value
     */
    public boolean getBoolean(String key, boolean def) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (!(v instanceof Boolean)) {
            throw bad(key, v, "true or false");
        }
        return (Boolean) v;
    }

    /**
     * Reads one of a fixed set of strings.
     *
     * @param key the key
     * @param def the default
     * @param allowed the allowed values
     * @return the value
     */
    public String getChoice(String key, String def, String... allowed) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        List<String> ok = Arrays.asList(allowed);
        if (!(v instanceof String) || !ok.contains(v)) {
            throw bad(key, v, "one of " + ok);
        }
        return (String) v;
    }

    /**
     * Throws if a key was given that no getter read.
     *
     * @throws IllegalArgumentException naming the unknown keys and the known ones
     */
    public void checkNoUnknownKeys() {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(read);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(
                    path + ": unknown key(s) " + unknown + ", allowed: " + new TreeSet<>(read));
        }
    }
}
