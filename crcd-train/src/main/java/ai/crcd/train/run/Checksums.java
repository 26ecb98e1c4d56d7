package ai.crcd.train.run;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The integrity check of every binary file crcd writes and reads back ({@code checkpoint.ckpt},
 * {@code model.params}): a SHA-256 of the payload in a trailer after it.
 *
 * <p>Layout of a sealed file: {@code payload}, then a 48-byte trailer: the 32-byte SHA-256 of the
 * payload, the payload's length (8 bytes, big-endian) and the 8 ASCII bytes {@code CRCDSHA2}. A
 * trailer at the end leaves the payload's own format intact (DJL's {@code NDList.decode} reads a
 * sealed {@code model.params} as before and ignores the trailer). Files without the trailer
 * (written before checksums, or cut short) read back as <em>unverified</em>; each caller decides
 * what that means for its format (see docs/training.md, "Integrity").
 */
public final class Checksums {

    /** Bytes after the payload. */
    public static final int TRAILER_BYTES = 48;

    private static final byte[] MAGIC = "CRCDSHA2".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;

    private Checksums() {}

    /**
     * A payload read back from a file.
     *
     * @param bytes the payload (the whole file when it carries no trailer)
     * @param verified whether a trailer was found and its checksum matched
     */
    public record Payload(byte[] bytes, boolean verified) {}

    /**
     * Returns the payload followed by its trailer.
     *
     * @param payload the content
     * @return the bytes to write
     */
    public static byte[] seal(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(payload.length + TRAILER_BYTES);
        b.put(payload).put(sha256(payload, payload.length)).putLong(payload.length).put(MAGIC);
        return b.array();
    }

    /**
     * Writes a sealed payload atomically ({@link AtomicFiles}).
     *
     * @param file the target
     * @param payload the content
     * @throws IOException if writing fails
     */
    public static void writeSealed(Path file, byte[] payload) throws IOException {
        AtomicFiles.write(file, seal(payload));
    }

    /**
     * Reads a file and checks its trailer.
     *
     * @param file the file
     * @param fix what the user should do if the file is corrupt, for the message
     * @return the payload; {@code verified} is false when the file has no trailer
     * @throws CorruptFileException if the file has a trailer that does not match its content
     * @throws IOException if the file cannot be read
     */
    public static Payload readSealed(Path file, String fix) throws IOException {
        return unseal(file, Files.readAllBytes(file), fix);
    }

    /**
     * Splits the bytes of a file into payload and trailer and checks the checksum.
     *
     * @param file the file, for the message
     * @param bytes the file's bytes
     * @param fix what the user should do if the file is corrupt
     * @return the payload; {@code verified} is false when the bytes have no trailer
     * @throws CorruptFileException if there is a trailer that does not match the content
     */
    public static Payload unseal(Path file, byte[] bytes, String fix) throws CorruptFileException {
        int n = bytes.length;
        if (n < TRAILER_BYTES
                || !Arrays.equals(bytes, n - MAGIC.length, n, MAGIC, 0, MAGIC.length)) {
            return new Payload(bytes, false);
        }
        long length = ByteBuffer.wrap(bytes, n - MAGIC.length - 8, 8).getLong();
        if (length != n - TRAILER_BYTES) {
            throw new CorruptFileException(
                    file,
                    "corrupt: its checksum trailer records "
                            + length
                            + " bytes of content, the file holds "
                            + (n - TRAILER_BYTES)
                            + " (cut short or damaged)",
                    fix);
        }
        byte[] stored =
                Arrays.copyOfRange(bytes, n - TRAILER_BYTES, n - TRAILER_BYTES + DIGEST_BYTES);
        byte[] actual = sha256(bytes, (int) length);
        if (!MessageDigest.isEqual(stored, actual)) {
            throw new CorruptFileException(
                    file,
                    "corrupt: SHA-256 mismatch (the file changed after crcd wrote it: a disk, copy"
                            + " or transfer error, or an edit)",
                    fix);
        }
        return new Payload(Arrays.copyOf(bytes, (int) length), true);
    }

    /**
     * SHA-256 of bytes as lower-case hex, e.g. for metadata files next to a payload.
     *
     * @param bytes the content
     * @return 64 hex digits
     */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256(bytes, bytes.length));
    }

    private static byte[] sha256(byte[] bytes, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes, 0, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java 17 runtime has SHA-256", e);
        }
    }
}
