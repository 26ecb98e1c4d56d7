package ai.crcd.train.data;

import java.nio.file.Path;

/**
 * A data set could not be read: a file is missing, truncated or corrupt, has a wrong magic number,
 * or holds a label out of range. The message names the file, the problem and the fix; {@link
 * #file()} returns the file (or folder) concerned.
 */
public final class DataSetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /**
     * Creates an exception about a file.
     *
     * @param file the file or folder concerned, may be {@code null}
     * @param message the problem and how to fix it
     */
    public DataSetException(Path file, String message) {
        super(file == null ? message : file + ": " + message);
        this.file = file;
    }

    /**
     * Creates an exception about a file with a cause.
     *
     * @param file the file or folder concerned, may be {@code null}
     * @param message the problem and how to fix it
     * @param cause the underlying error
     */
    public DataSetException(Path file, String message, Throwable cause) {
        super(file == null ? message : file + ": " + message, cause);
        this.file = file;
    }

    /**
     * Returns the file or folder the error is about.
     *
     * @return the path, or {@code null}
     */
    public Path file() {
        return file;
    }
}
