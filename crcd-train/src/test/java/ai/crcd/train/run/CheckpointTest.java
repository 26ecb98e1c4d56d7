package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint reads back what was written, also with empty lists (methods without state); a
 * changed, cut-short or non-finite one is named as corrupt; one written before checksums reads.
 */
class CheckpointTest {

    @Test
    void roundTripWithEmptyMomentumAndState(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1.5f, -2f, 3.25f});
            w.setName("w");
            Checkpoint written =
                    new Checkpoint(
                            3, 42L, 7L, List.of(), new NDList(w), new NDList(), new NDList());
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

    private static Checkpoint sample(NDManager m, float... w) {
        NDArray a = m.create(w);
        a.setName("w");
        NDArray mom = m.create(new float[] {0.5f, 0.25f, 0.125f});
        mom.setName("w");
        return new Checkpoint(2, 10L, 7L, List.of(), new NDList(a), new NDList(mom), new NDList());
    }

    @Test
    void overwrittenOrTruncatedCheckpointIsCorrupt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(Checkpoint.FILE);
        try (NDManager m = NDManager.newBaseManager()) {
            sample(m, 1.5f, -2f, 3.25f).write(file);
            byte[] good = Files.readAllBytes(file);
            for (int at : new int[] {0, 20, good.length / 2, good.length - 60, good.length - 8}) {
                byte[] bad = good.clone();
                for (int i = at; i < at + 8; i++) {
                    bad[i] ^= (byte) 0x5a;
                }
                Files.write(file, bad);
                IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file, m));
                assertTrue(
                        e.getMessage().startsWith(file + ": corrupt: "),
                        at + ": " + e.getMessage());
                assertTrue(
                        e.getMessage()
                                .endsWith(
                                        "restore a copy of it, or delete it and start"
                                                + " the run again without --resume"),
                        e.getMessage());
            }
            for (int len : new int[] {good.length - 1, good.length - 48, good.length / 2, 13}) {
                Files.write(file, java.util.Arrays.copyOf(good, len));
                IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file, m));
                assertTrue(
                        e.getMessage().startsWith(file + ": corrupt: cut short"),
                        len + ": " + e.getMessage());
            }
            Files.write(file, java.util.Arrays.copyOf(good, 5));
            IOException tiny = assertThrows(IOException.class, () -> Checkpoint.read(file, m));
            assertTrue(
                    tiny.getMessage().startsWith(file + ": cut short (5 bytes)"),
                    tiny.getMessage());
        }
    }

    @Test
    void checkpointWithNonFiniteParametersIsRejected(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(Checkpoint.FILE);
        try (NDManager m = NDManager.newBaseManager()) {
            sample(m, 1f, Float.POSITIVE_INFINITY, Float.NaN).write(file);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file, m));
            assertTrue(
                    e.getMessage().startsWith(file + ": parameter 'w' holds 2 non-finite value(s)"),
                    e.getMessage());
        }
    }

    @Test
    void versionOneCheckpointWithoutChecksumStillReads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(Checkpoint.FILE);
        try (NDManager m = NDManager.newBaseManager()) {
            sample(m, 1.5f, -2f, 3.25f).write(file);
            byte[] v2 = Files.readAllBytes(file);
            // the layout of version 1: the same blocks, no trailer
            byte[] v1 = java.util.Arrays.copyOf(v2, v2.length - 48);
            assertEquals(2, java.nio.ByteBuffer.wrap(v1, 8, 4).getInt());
            java.nio.ByteBuffer.wrap(v1, 8, 4).putInt(1);
            Files.write(file, v1);
            Checkpoint read = Checkpoint.read(file, m);
            assertEquals(2, read.epochsDone());
            assertArrayEquals(
                    new float[] {1.5f, -2f, 3.25f}, read.parameters().get(0).toFloatArray());
            assertArrayEquals(
                    new float[] {0.5f, 0.25f, 0.125f}, read.momentum().get(0).toFloatArray());
            // a version-1 file cut short cannot be verified, but does not parse: corrupt
            Files.write(file, java.util.Arrays.copyOf(v1, v1.length - 10));
            IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file, m));
            assertTrue(
                    e.getMessage()
                            .startsWith(file + ": corrupt: cut short or damaged (no checksum"),
                    e.getMessage());
        }
    }
}
