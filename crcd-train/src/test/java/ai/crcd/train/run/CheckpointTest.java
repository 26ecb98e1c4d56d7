package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint reads back what was written, also with empty lists (methods without state). */
class CheckpointTest {

    @Test
    void roundTripWithEmptyMomentumAndState(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1.5f, -2f, 3.25f});
            w.setName("w");
            Checkpoint written =
                    new Checkpoint(3, 42L, 7L, List.of(), new NDList(w), new NDList(), new NDList());
            Path file = dir.resolve(Checkpoint.FILE);
            written.write(file);
            assertTrue(Files.size(file) > 0);
            Checkpoint read = Checkpoint.read(file, m);
            assertEquals(3, read.epochsDone());
            assertEquals(42L, read.step());
            assertEquals(7L, read.seed());
            assertEquals(1, read.parameters().size());
            assertArrayEquals(
                    new float[] {1.5f, -2f, 3.25f}, read.parameters().get(0).toFloatArray());
            assertTrue(read.momentum().isEmpty());
            assertTrue(read.distillerState().isEmpty());
        }
    }
}
