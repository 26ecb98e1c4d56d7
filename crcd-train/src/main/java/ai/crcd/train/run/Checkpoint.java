package ai.crcd.train.run;

import ai.crcd.train.EpochMetrics;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything needed to continue a run exactly, written atomically after every epoch to {@code
 * checkpoint.ckpt} in the run folder.
 *
 * <p>Layout: the 8 bytes {@code CRCDCKPT}, an int version, then four length-prefixed blocks: JSON
 * metadata (epochs done, global step, seed, history, and the init stage's epochs done and history),
 * the trained parameters (student and auxiliary block, incl. BatchNorm statistics), the optimiser's
 * momentum buffers and the distiller's {@code state()}; the last three in DJL's {@code
 * NDList.encode} format, arrays named by parameter path; then (version 2) the {@link Checksums}
 * trailer over all of it. Random numbers are derived from (seed, epoch), so no generator state is
 * stored.
 *
 * <p>Reading verifies the checksum: a changed or cut-short version-2 file, or one whose parameters
 * are not finite, is a {@link CorruptFileException}. A version-1 file (written before checksums) is
 * read unverified with a warning.
 *
 * @param epochsDone completed epochs
 * @param step optimiser steps taken so far
 * @param seed the run's seed
 * @param history metrics of the completed epochs
 * @param parameters trained parameters by path
 * @param momentum momentum buffers by parameter path
 * @param distillerState the distiller's state arrays, in its order
 * @param initEpochsDone completed epochs of the method's init stage (0 without one); a checkpoint
 *     with {@code epochsDone == 0} and {@code initEpochsDone > 0} was written during the init stage
 *     and its {@code momentum} is the init optimiser's
 * @param initHistory metrics of the completed init epochs
 */
public record Checkpoint(
        int epochsDone,
        long step,
        long seed,
        List<EpochMetrics> history,
        NDList parameters,
        NDList momentum,
        NDList distillerState,
        int initEpochsDone,
        List<EpochMetrics> initHistory) {

    /**
     * A checkpoint of a run without an init stage.
     *
     * @param epochsDone completed epochs
     * @param step optimiser steps taken so far
     * @param seed the run's seed
     * @param history metrics of the completed epochs
     * @param parameters trained parameters by path
     * @param momentum momentum buffers by parameter path
     * @param distillerState the distiller's state arrays, in its order
     */
    public Checkpoint(
            int epochsDone,
            long step,
            long seed,
            List<EpochMetrics> history,
            NDList parameters,
            NDList momentum,
            NDList distillerState) {
        this(epochsDone, step, seed, history, parameters, momentum, distillerState, 0, List.of());
    }

    /** The file name inside the run folder. */
    public static final String FILE = "checkpoint.ckpt";

    private static final byte[] MAGIC = {'C', 'R', 'C', 'D', 'C', 'K', 'P', 'T'};
    private static final int VERSION = 2;
    private static final int VERSION_WITHOUT_CHECKSUM = 1;
    private static final String FIX =
            "restore a copy of it, or delete it and start the run again without --resume";
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);
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
                                    "history", history,
                                    "init_epochs_done", initEpochsDone,
                                    "init_history", initHistory)));
            block(out, encode(parameters));
            block(out, encode(momentum));
            block(out, encode(distillerState));
        }
        Checksums.writeSealed(file, bos.toByteArray());
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
     * Reads a checkpoint and verifies it.
     *
     * @param file the file
     * @param manager owns the arrays read
     * @return the checkpoint
     * @throws CorruptFileException if the file is changed, cut short or holds non-finite parameters
     *     (one line: the file, the problem, what to do)
     * @throws IOException if the file cannot be read or is not a checkpoint
     */
    public static Checkpoint read(Path file, NDManager manager) throws IOException {
        Checksums.Payload payload = Checksums.readSealed(file, FIX);
        byte[] bytes = payload.bytes();
        if (bytes.length < MAGIC.length + 4
                || !java.util.Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            if (!payload.verified() && bytes.length < MAGIC.length + 4) {
                throw new CorruptFileException(file, "cut short (" + bytes.length + " bytes)", FIX);
            }
            throw new IOException(file + ": not a crcd checkpoint");
        }
        int version = ByteBuffer.wrap(bytes, MAGIC.length, 4).getInt();
        if (version == VERSION && !payload.verified()) {
            throw new CorruptFileException(
                    file, "corrupt: cut short or damaged (its checksum trailer is missing)", FIX);
        }
        if (version == VERSION_WITHOUT_CHECKSUM) {
            LOG.warn("{}: written by an older crcd without a checksum, read unverified", file);
        } else if (version != VERSION) {
            throw new IOException(
                    file + ": checkpoint version " + version + ", this build reads " + VERSION);
        }
        Checkpoint ck;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            in.skipNBytes(MAGIC.length + 4);
            Map<String, Object> meta =
                    JSON.readValue(block(in), new TypeReference<Map<String, Object>>() {});
            List<EpochMetrics> history =
                    JSON.convertValue(
                            meta.get("history"), new TypeReference<List<EpochMetrics>>() {});
            Object initDone = meta.get("init_epochs_done");
            List<EpochMetrics> initHistory =
                    meta.get("init_history") == null
                            ? List.of()
                            : JSON.convertValue(
                                    meta.get("init_history"),
                                    new TypeReference<List<EpochMetrics>>() {});
            NDList params = decode(manager, block(in));
            NDList mom = decode(manager, block(in));
            NDList state = decode(manager, block(in));
            ck =
                    new Checkpoint(
                            ((Number) meta.get("epochs_done")).intValue(),
                            ((Number) meta.get("step")).longValue(),
                            ((Number) meta.get("seed")).longValue(),
                            history,
                            params,
                            mom,
                            state,
                            initDone == null ? 0 : ((Number) initDone).intValue(),
                            initHistory);
        } catch (IOException | RuntimeException e) {
            if (payload.verified()) {
                throw new IOException(
                        file + ": checksum matches but the content does not parse (" + e + ")", e);
            }
            throw new CorruptFileException(
                    file,
                    "corrupt: cut short or damaged (no checksum to tell which; "
                            + e.getClass().getSimpleName()
                            + " while reading it)",
                    FIX);
        }
        ParameterFiles.requireFinite(ck.parameters(), file, FIX);
        return ck;
    }
}
