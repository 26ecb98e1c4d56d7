package ai.crcd.train.run;

import ai.crcd.train.EpochMetrics;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue a run exactly, written atomically after every epoch to
 * {@code checkpoint.ckpt} in the run folder.
 *
 * <p>Layout: the 8 bytes {@code CRCDCKPT}, an int version, then four length-prefixed blocks:
 * JSON metadata (epochs done, global step, seed, history), the trained parameters (student and
 * auxiliary block, incl. BatchNorm statistics), the optimiser's momentum buffers and the
 * distiller's {@code state()}; the last three in DJL's {@code NDList.encode} format, arrays named
 * by parameter path. Random numbers are derived from (seed, epoch), so no generator state is
 * stored.
 *
 * @param epochsDone completed epochs
 * @param step optimiser steps taken so far
 * @param seed the run's seed
 * @param history metrics of the completed epochs
 * @param parameters trained parameters by path
 * @param momentum momentum buffers by parameter path
 * @param distillerState the distiller's state arrays, in its order
 */
public record Checkpoint(
        int epochsDone,
        long step,
        long seed,
        List<EpochMetrics> history,
        NDList parameters,
        NDList momentum,
        NDList distillerState) {

    /** The file name inside the run folder. */
    public static final String FILE = "checkpoint.ckpt";

    private static final byte[] MAGIC = {'C', 'R', 'C', 'D', 'C', 'K', 'P', 'T'};
    private static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes the checkpoint atomically (temp file + rename).
     *
     * @param file the target
     * @throws IOException if writing fails
     */
    public void write(Path file) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bos)) {
            out.write(MAGIC);
            out.writeInt(VERSION);
            block(
                    out,
                    JSON.writeValueAsBytes(
                            Map.of(
                                    "epochs_done", epochsDone,
                                    "step", step,
                                    "seed", seed,
                                    "history", history)));
            block(out, encode(parameters));
            block(out, encode(momentum));
            block(out, encode(distillerState));
        }
        AtomicFiles.write(file, bos.toByteArray());
    }

    private static void block(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    /** An empty list (e.g. a method without state) is stored as an empty block. */
    private static byte[] encode(NDList list) {
        return list.isEmpty() ? new byte[0] : list.encode();
    }

    private static NDList decode(NDManager manager, byte[] bytes) {
        return bytes.length == 0 ? new NDList() : NDList.decode(manager, bytes);
    }

    private static byte[] block(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    /**
     * Reads a checkpoint.
     *
     * @param file the file
     * @param manager owns the arrays read
     * @return the checkpoint
     * @throws IOException if the file cannot be read or is not a checkpoint
     */
    public static Checkpoint read(Path file, NDManager manager) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException(file + ": not a crcd checkpoint");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException(
                        file + ": checkpoint version " + version + ", this build reads " + VERSION);
            }
            Map<String, Object> meta =
                    JSON.readValue(block(in), new TypeReference<Map<String, Object>>() {});
            List<EpochMetrics> history =
                    JSON.convertValue(
                            meta.get("history"), new TypeReference<List<EpochMetrics>>() {});
            NDList params = decode(manager, block(in));
            NDList mom = decode(manager, block(in));
            NDList state = decode(manager, block(in));
            return new Checkpoint(
                    ((Number) meta.get("epochs_done")).intValue(),
                    ((Number) meta.get("step")).longValue(),
                    ((Number) meta.get("seed")).longValue(),
                    history,
                    params,
                    mom,
                    state);
        }
    }
}
