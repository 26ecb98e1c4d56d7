package ai.crcd.train.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parameters of a block as a named {@link NDList} (DJL's {@code NDList.encode} format), one array
 * per parameter in {@code block.getParameters()} order, named by its path. BatchNorm running
 * statistics are parameters and are included. This is the format of {@code model.params}, followed
 * by the {@link Checksums} trailer; reading verifies it and rejects non-finite values.
 */
public final class ParameterFiles {

    private static final Logger LOG = LoggerFactory.getLogger(ParameterFiles.class);

    private static final String FIX =
            "restore a copy of it, or run the training that wrote it again";

    private ParameterFiles() {}

    /**
     * Copies every parameter of a block into a named list (host copies are not made).
     *
     * @param block an initialised block
     * @return the arrays, named by parameter path
     */
    public static NDList toNDList(Block block) {
        NDList list = new NDList();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            NDArray c = a.duplicate();
            c.setName(p.getKey());
            list.add(c);
        }
        return list;
    }

    /**
     * Copies named arrays into a block's parameters, in place.
     *
     * @param block an initialised block
     * @param list arrays named by parameter path, as written by {@link #toNDList(Block)}
     * @param what what is being loaded, for messages (e.g. the file)
     * @throws IllegalArgumentException naming the first missing parameter or mismatching shape
     */
    public static void load(Block block, NDList list, String what) {
        Map<String, NDArray> byName = new HashMap<>();
        for (NDArray a : list) {
            byName.put(a.getName(), a);
        }
        if (byName.size() != block.getParameters().size()) {
            throw new IllegalArgumentException(
                    what
                            + ": holds "
                            + byName.size()
                            + " parameters, the network has "
                            + block.getParameters().size()
                            + " (different architecture?)");
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray src = byName.get(p.getKey());
            NDArray dst = p.getValue().getArray();
            if (src == null) {
                throw new IllegalArgumentException(
                        what + ": no parameter '" + p.getKey() + "' (different architecture?)");
            }
            if (!src.getShape().equals(dst.getShape())) {
                throw new IllegalArgumentException(
                        what
                                + ": parameter '"
                                + p.getKey()
                                + "' has shape "
                                + src.getShape()
                                + ", the network expects "
                                + dst.getShape()
                                + " (different architecture or class count?)");
            }
            // A native in-place copy. NDArray.copyTo is not used: on the CPU it makes dst share
            // the memory of a direct buffer of src, which dangles once src is closed.
            try (NDArray moved = src.toDevice(dst.getDevice(), true)) {
                dst.set(new NDIndex("..."), moved);
            }
        }
    }

    /**
     * Writes a block's parameters to a file atomically, with a checksum.
     *
     * @param block the block
     * @param file the target, e.g. {@code model.params}
     * @throws IOException if writing fails
     */
    public static void save(Block block, Path file) throws IOException {
        try (NDList list = toNDList(block)) {
            Checksums.writeSealed(file, list.encode());
        }
    }

    /**
     * Reads a parameter file into a block. The checksum is verified; a file without one (written
     * before checksums) is read with a warning if it decodes completely. Every value must be
     * finite.
     *
     * @param block an initialised block
     * @param file the file
     * @param manager a manager for the temporary arrays
     * @throws CorruptFileException if the file is changed, cut short or holds a non-finite value
     *     (one line naming the file and, for a non-finite value, the parameter)
     * @throws IllegalArgumentException if it does not fit the block (see {@link #load})
     * @throws IOException if reading fails
     */
    public static void read(Block block, Path file, NDManager manager) throws IOException {
        try (NDManager tmp = manager.newSubManager()) {
            NDList list = decode(file, tmp);
            requireFinite(list, file, FIX);
            load(block, list, file.toString());
        }
    }

    /**
     * Reads and verifies a parameter file without loading it into a block.
     *
     * @param file the file
     * @param manager owns the arrays read
     * @return the arrays, named by parameter path
     * @throws CorruptFileException if the file is changed or cut short
     * @throws IOException if reading fails
     */
    public static NDList decode(Path file, NDManager manager) throws IOException {
        Checksums.Payload payload = Checksums.readSealed(file, FIX);
        java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(payload.bytes());
        NDList list;
        try {
            list = NDList.decode(manager, in);
        } catch (RuntimeException e) {
            if (payload.verified()) {
                throw new IllegalArgumentException(
                        file + ": not a crcd parameter file (" + e.getMessage() + ")", e);
            }
            throw new CorruptFileException(
                    file,
                    "cut short, damaged, or not a parameter file (it has no crcd checksum, and"
                            + " DJL cannot decode it: "
                            + e.getClass().getSimpleName()
                            + ")",
                    FIX);
        }
        if (!payload.verified()) {
            if (in.available() > 0) {
                throw new CorruptFileException(
                        file,
                        "corrupt: " + in.available() + " unexpected bytes after the parameters",
                        FIX);
            }
            LOG.warn("{}: written by an older crcd without a checksum, read unverified", file);
        }
        return list;
    }

    /**
     * Rejects non-finite values (NaN, infinity) in floating-point arrays.
     *
     * @param list named arrays
     * @param file where they were read from, for the message
     * @param fix what to do, for the message
     * @throws CorruptFileException naming the file and the first array with a non-finite value
     */
    public static void requireFinite(NDList list, Path file, String fix)
            throws CorruptFileException {
        for (NDArray a : list) {
            if (!a.getDataType().isFloating()) {
                continue;
            }
            long bad;
            try (NDArray nan = a.isNaN();
                    NDArray inf = a.isInfinite();
                    NDArray either = nan.logicalOr(inf);
                    NDArray count = either.countNonzero()) {
                bad = count.toType(DataType.INT64, false).getLong();
            }
            if (bad > 0) {
                throw new CorruptFileException(
                        file,
                        "parameter '"
                                + a.getName()
                                + "' holds "
                                + bad
                                + " non-finite value(s) (NaN or infinity) of "
                                + a.size()
                                + "; the network that wrote it had diverged or the file is damaged",
                        fix);
            }
        }
    }
}
