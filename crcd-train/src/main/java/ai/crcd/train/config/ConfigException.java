package ai.crcd.train.config;

/**
 * A bad run configuration. The message is one line naming the key, the value and what is allowed,
 * e.g. {@code optim.lr: got '-0.1', allowed: a number > 0}; the command line prints it as it is and
 * exits with status 2.
 */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the one-line message
     */
    public ConfigException(String message) {
        super(message);
    }

    /**
     * Creates the exception for a key with a bad value.
     *
     * @param key the dotted key, e.g. {@code optim.lr}
     * @param value the value found
     * @param allowed what is allowed
     * @return the exception
     */
    public static ConfigException bad(String key, Object value, String allowed) {
        return new ConfigException(key + ": got '" + value + "', allowed: " + allowed);
    }
}
