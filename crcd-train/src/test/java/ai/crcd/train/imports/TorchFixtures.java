package ai.crcd.train.imports;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/** The fixtures of src/test/resources/torch-fixtures (made by make_fixtures.py), unpacked. */
final class TorchFixtures {

    private TorchFixtures() {}

    /**
     * Copies a fixture into a folder, un-gzipping {@code name.gz} if that is how it is stored.
     *
     * @param name the file name without {@code .gz}, e.g. {@code resnet8.pth}
     * @param dir the target folder
     * @return the file
     */
    static Path copy(String name, Path dir) {
        Path out = dir.resolve(name);
        try {
            InputStream gz =
                    TorchFixtures.class.getResourceAsStream("/torch-fixtures/" + name + ".gz");
            if (gz != null) {
                try (InputStream in = new GZIPInputStream(gz)) {
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
                return out;
            }
            try (InputStream in =
                    TorchFixtures.class.getResourceAsStream("/torch-fixtures/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("no fixture " + name);
                }
                Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
