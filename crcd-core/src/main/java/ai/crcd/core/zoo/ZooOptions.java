package ai.crcd.core.zoo;

/** The one range check of the zoo's builders, with a message naming the method and the option. */
final class ZooOptions {

    private ZooOptions() {}

    /**
     * Throws when a value is out of range.
     *
     * @param method the method's name
     * @param ok whether the value is allowed
     * @param key the option's key as in a config
     * @param value the value
     * @param allowed what is allowed, e.g. {@code ">= 0"}
     * @throws IllegalArgumentException {@code "<method>: option <key> = <value>, allowed: ..."}
     */
    static void check(String method, boolean ok, String key, Object value, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(
                    method + ": option " + key + " = " + value + ", allowed: " + allowed);
        }
    }
}
