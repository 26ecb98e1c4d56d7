package ai.crcd.train;

/**
 * A run that cannot continue (non-finite loss, unreadable checkpoint). The message is one line that
 * says what happened, where, and what to do; the command line prints it and exits with 1.
 */
public class TrainingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the one-line message
     */
    public TrainingException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message the one-line message
     * @param cause the cause
     */
    public TrainingException(String message, Throwable cause) {
        super(message, cause);
    }
}
