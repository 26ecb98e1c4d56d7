package ai.crcd.train.run;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file crcd wrote earlier that cannot be trusted: its checksum does not match, it is cut short,
 * or it holds non-finite values. The message is one line: the file, what is wrong with it and what
 * to do.
 */
public class CorruptFileException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /**
     * Creates the exception.
     *
     * @param file the file
     * @param problem what is wrong, e.g. {@code corrupt: checksum mismatch}
     * @param fix what to do, e.g. {@code restore a copy or train it again}
     */
    public CorruptFileException(Path file, String problem, String fix) {
        super(file + ": " + problem + "; " + fix);
        this.file = file;
    }

    /**
     * Returns the file.
     *
     * @return the file that cannot be trusted
     */
    public Path file() {
        return file;
    }
}
