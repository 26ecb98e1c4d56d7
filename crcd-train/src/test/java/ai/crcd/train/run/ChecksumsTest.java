package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The SHA-256 trailer: round trip, every damaged byte found, files without a trailer told apart.
 */
class ChecksumsTest {

    private static final Path F = Path.of("x.bin");

    @Test
    void sha256MatchesTheStandardTestVector() {
        // FIPS 180-2, appendix B.1
        assertEquals(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Checksums.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void roundTripAndEveryFlippedByteIsFound() throws Exception {
        byte[] payload = new byte[300];
        new Random(1).nextBytes(payload);
        byte[] sealed = Checksums.seal(payload);
        assertEquals(payload.length + Checksums.TRAILER_BYTES, sealed.length);
        assertArrayEquals(payload, Arrays.copyOf(sealed, payload.length)); // payload first, as is
        Checksums.Payload p = Checksums.unseal(F, sealed, "fix");
        assertTrue(p.verified());
        assertArrayEquals(payload, p.bytes());
        for (int i = 0; i < sealed.length; i++) {
            byte[] bad = sealed.clone();
            bad[i] ^= 1;
            int at = i;
            if (i >= sealed.length - 8) {
                // the marker itself: no longer a sealed file, read unverified
                assertFalse(Checksums.unseal(F, bad, "fix").verified(), "byte " + at);
            } else {
                CorruptFileException e =
                        assertThrows(
                                CorruptFileException.class, () -> Checksums.unseal(F, bad, "fix"));
                assertTrue(e.getMessage().startsWith("x.bin: corrupt: "), e.getMessage());
                assertTrue(e.getMessage().endsWith("; fix"), e.getMessage());
                assertEquals(F, e.file());
            }
        }
    }

    @Test
    void bytesWithoutTrailerAreUnverified() throws Exception {
        byte[] plain = "no trailer here".getBytes(StandardCharsets.US_ASCII);
        Checksums.Payload p = Checksums.unseal(F, plain, "fix");
        assertFalse(p.verified());
        assertArrayEquals(plain, p.bytes());
        // a sealed file with bytes cut from its middle: the recorded length disagrees
        byte[] sealed = Checksums.seal(new byte[100]);
        byte[] cut = new byte[sealed.length - 10];
        System.arraycopy(sealed, 0, cut, 0, 40);
        System.arraycopy(sealed, 50, cut, 40, sealed.length - 50);
        CorruptFileException e =
                assertThrows(CorruptFileException.class, () -> Checksums.unseal(F, cut, "fix"));
        assertTrue(
                e.getMessage().contains("records 100 bytes of content, the file holds 90"),
                e.getMessage());
    }
}
