package ai.crcd.train.data;

import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of one data set, checked in one place: names, types and ranges, for {@link
 * DataSets#open} and for the config key {@code data.options} alike. Every problem is an {@link
 * IllegalArgumentException} with one line naming the option, the value and what is allowed, e.g.
 * {@code data.options.size: got 'abc', allowed: HxW (e.g. "32x32") or an integer >= 1}.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>data set</th><th>option</th><th>values</th></tr>
 *   <tr><td>cifar100</td><td>coarse, download</td><td>true/false</td></tr>
 *   <tr><td>cifar10</td><td>download</td><td>true/false</td></tr>
 *   <tr><td>image-folder</td><td>size, channels</td><td>"HxW" or an integer; 1 or 3</td></tr>
 *   <tr><td>imagenet-folder</td><td>crop (224), resize (256, evaluation's shorter side),
 *       threads (decoding threads), prefetch (batches decoded ahead, 2)</td>
 *       <td>integers >= 1</td></tr>
 *   <tr><td>synthetic</td><td>size (training samples), testSize, classes, channels, height, width, seed</td>
 *       <td>integers (seed any, the others >= 1)</td></tr>
 *   <tr><td>every set</td><td>perClass</td><td>an integer >= 1</td></tr>
 * </table>
 *
 * <p>In a run config, {@code perClass} is set by {@code data.subset_per_class} and {@code
 * data.test_subset_per_class}, and the shape of {@code synthetic} by {@code data.synthetic}; those
 * options are refused in {@code data.options} with a pointer to the key to use.
 */
public final class DataOptions {

    private enum Type {
        BOOL("true or false"),
        COUNT("an integer >= 1"),
        INT("an integer"),
        CHANNELS("1 (grey) or 3 (RGB)"),
        SIZE("HxW (e.g. \"32x32\") or an integer >= 1 (square)");

        private final String allowed;

        Type(String allowed) {
            this.allowed = allowed;
        }
    }

    private static final Map<String, Map<String, Type>> SPECS = specs();

    /** Options a run config sets through its own keys, with those keys. */
    private static final Map<String, String> CONFIG_KEYS =
            Map.of(
                    "perClass", "data.subset_per_class and data.test_subset_per_class",
                    "synthetic.size", "data.synthetic.train_size",
                    "synthetic.testSize", "data.synthetic.test_size",
                    "synthetic.classes", "data.synthetic.classes",
                    "synthetic.channels", "data.synthetic.channels",
                    "synthetic.height", "data.synthetic.size",
                    "synthetic.width", "data.synthetic.size");

    private final String dataSet;
    private final Map<String, Object> values;

    private DataOptions(String dataSet, Map<String, Object> values) {
        this.dataSet = dataSet;
        this.values = values;
    }

    private static Map<String, Map<String, Type>> specs() {
        Map<String, Map<String, Type>> m = new LinkedHashMap<>();
        m.put("cifar100", ordered("coarse", Type.BOOL, "download", Type.BOOL));
        m.put("cifar10", ordered("download", Type.BOOL));
        m.put("fashion-mnist", ordered());
        m.put("mnist", ordered());
        m.put("image-folder", ordered("size", Type.SIZE, "channels", Type.CHANNELS));
        m.put(
                "imagenet-folder",
                ordered(
                        "crop",
                        Type.COUNT,
                        "resize",
                        Type.COUNT,
                        "threads",
                        Type.COUNT,
                        "prefetch",
                        Type.COUNT));
        m.put(
                "synthetic",
                ordered(
                        "size",
                        Type.COUNT,
                        "testSize",
                        Type.COUNT,
                        "classes",
                        Type.COUNT,
                        "channels",
                        Type.COUNT,
                        "height",
                        Type.COUNT,
                        "width",
                        Type.COUNT,
                        "seed",
                        Type.INT));
        for (Map<String, Type> o : m.values()) {
            o.put("perClass", Type.COUNT);
        }
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Type> ordered(Object... kv) {
        Map<String, Type> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Type) kv[i + 1]);
        }
        return m;
    }

    /**
     * Returns the option names of a data set.
     *
     * @param dataSet one of {@link DataSets#names()}
     * @return the names, sorted
     * @throws IllegalArgumentException for an unknown data set
     */
    public static Set<String> names(String dataSet) {
        return new TreeSet<>(spec(dataSet).keySet());
    }

    /**
     * Checks options given in code ({@link DataSets#open}).
     *
     * @param dataSet one of {@link DataSets#names()}
     * @param options the options, may be {@code null}
     * @return the checked options
     * @throws IllegalArgumentException naming the first unknown option or bad value
     */
    public static DataOptions of(String dataSet, Map<String, Object> options) {
        return check(dataSet, options, null);
    }

    /**
     * Checks the config section {@code data.options}: as {@link #of}, and refuses the options that
     * a run config sets through its own keys ({@code perClass}; synthetic's shape).
     *
     * @param dataSet the value of {@code data.name}, one of {@link DataSets#names()}
     * @param options the section, may be {@code null} (no options)
     * @return the checked options
     * @throws IllegalArgumentException with one line {@code data.options.<key>: ...}
     */
    public static DataOptions ofConfig(String dataSet, Map<String, Object> options) {
        Map<String, Object> opts = options == null ? Map.of() : options;
        for (String k : new TreeSet<>(opts.keySet())) {
            String own = CONFIG_KEYS.get(k);
            if (own == null) {
                own = CONFIG_KEYS.get(dataSet + "." + k);
            }
            if (own != null) {
                throw new IllegalArgumentException(
                        "data.options."
                                + k
                                + ": got '"
                                + opts.get(k)
                                + "', allowed: not here,"
                                + " set "
                                + own
                                + " instead");
            }
        }
        return check(dataSet, opts, "data.options");
    }

    private static DataOptions check(String dataSet, Map<String, Object> options, String prefix) {
        Map<String, Type> spec = spec(dataSet);
        Map<String, Object> opts = options == null ? Map.of() : options;
        Map<String, Object> checked = new LinkedHashMap<>();
        for (String k : new TreeSet<>(opts.keySet())) {
            String label =
                    prefix == null
                            ? "data set '" + dataSet + "' option '" + k + "'"
                            : prefix + "." + k;
            Type t = spec.get(k);
            if (t == null) {
                Set<String> allowed = new TreeSet<>(spec.keySet());
                if (prefix != null) {
                    allowed.removeIf(
                            n ->
                                    CONFIG_KEYS.containsKey(n)
                                            || CONFIG_KEYS.containsKey(dataSet + "." + n));
                }
                throw new IllegalArgumentException(
                        label
                                + ": unknown option of data set '"
                                + dataSet
                                + "', allowed: "
                                + (allowed.isEmpty()
                                        ? "none (this data set has no options)"
                                        : allowed));
            }
            Object v = opts.get(k);
            checked.put(k, convert(label, t, v));
        }
        return new DataOptions(dataSet, Collections.unmodifiableMap(checked));
    }

    private static Map<String, Type> spec(String dataSet) {
        Map<String, Type> spec = SPECS.get(dataSet);
        if (spec == null) {
            throw new IllegalArgumentException(
                    "unknown data set '" + dataSet + "'; known: " + SPECS.keySet());
        }
        return spec;
    }

    private static Object convert(String label, Type t, Object v) {
        IllegalArgumentException bad =
                new IllegalArgumentException(label + ": got '" + v + "', allowed: " + t.allowed);
        if (v == null) {
            throw bad;
        }
        switch (t) {
            case BOOL -> {
                if (v instanceof Boolean b) {
                    return b;
                }
                String s = v.toString().trim().toLowerCase(Locale.ROOT);
                if (s.equals("true") || s.equals("false")) {
                    return Boolean.parseBoolean(s);
                }
                throw bad;
            }
            case INT, COUNT, CHANNELS -> {
                Integer i = toInt(v);
                if (i == null
                        || (t == Type.COUNT && i < 1)
                        || (t == Type.CHANNELS && i != 1 && i != 3)) {
                    throw bad;
                }
                return i;
            }
            default -> { // SIZE
                Integer square = toInt(v);
                int[] hw;
                if (square != null) {
                    hw = new int[] {square, square};
                } else if (v instanceof CharSequence) {
                    String s = v.toString().trim().toLowerCase(Locale.ROOT);
                    int x = s.indexOf('x');
                    Integer h = x < 0 ? null : toInt(s.substring(0, x).trim());
                    Integer w = x < 0 ? null : toInt(s.substring(x + 1).trim());
                    if (h == null || w == null) {
                        throw bad;
                    }
                    hw = new int[] {h, w};
                } else {
                    throw bad;
                }
                if (hw[0] < 1 || hw[1] < 1) {
                    throw bad;
                }
                return List.of(hw[0], hw[1]);
            }
        }
    }

    /** An int from an integral number or its text; {@code null} for anything else. */
    private static Integer toInt(Object v) {
        if (v instanceof Integer
                || v instanceof Long
                || v instanceof Short
                || v instanceof Byte
                || v instanceof BigInteger) {
            long l = ((Number) v).longValue();
            boolean fits = !(v instanceof BigInteger bi) || bi.bitLength() < 63;
            return fits && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE ? (int) l : null;
        }
        if (v instanceof CharSequence) {
            try {
                return Integer.parseInt(v.toString().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /**
     * Returns the data set these options belong to.
     *
     * @return the data set name
     */
    public String dataSet() {
        return dataSet;
    }

    /**
     * Returns whether an option is set.
     *
     * @param key the option
     * @return whether it was given
     */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /**
     * Returns a true/false option.
     *
     * @param key the option
     * @param def the default
     * @return the value
     */
    public boolean bool(String key, boolean def) {
        Object v = values.get(key);
        return v == null ? def : (Boolean) v;
    }

    /**
     * Returns an integer option.
     *
     * @param key the option
     * @param def the default
     * @return the value
     */
    public int integer(String key, int def) {
        Object v = values.get(key);
        return v == null ? def : (Integer) v;
    }

    /**
     * Returns the image-folder option {@code size} as {height, width}.
     *
     * @return {H, W}, or {0, 0} when not set (keep the images' own size)
     */
    public int[] size() {
        Object v = values.get("size");
        if (!(v instanceof List<?> hw)) {
            return new int[] {0, 0};
        }
        return new int[] {(Integer) hw.get(0), (Integer) hw.get(1)};
    }

    @Override
    public String toString() {
        return dataSet + " " + values;
    }
}
