package ai.crcd.train.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Parameters of a block as a named {@link NDList} (DJL's {@code NDList.encode} format), one array
 * per parameter in {@code block.getParameters()} order, named by its path. BatchNorm running
 * statistics are parameters and are included. This is the format of {@code model.params}.
 */
public final class ParameterFiles {

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
     * Writes a block's parameters to a file atomically.
     *
     * @param block the block
     * @param file the target, e.g. {@code model.params}
     * @throws IOException if writing fails
     */
    public static void save(Block block, Path file) throws IOException {
        try (NDList list = toNDList(block)) {
            AtomicFiles.write(file, list.encode());
        }
    }

    /**
     * Reads a parameter file into a block.
     *
     * @param block an initialised block
     * @param file the file
     * @param manager a manager for the temporary arrays
     * @throws IOException if reading fails
     */
    public static void read(Block block, Path file, NDManager manager) throws IOException {
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        try (NDManager tmp = manager.newSubManager()) {
            NDList list;
            try {
                list = NDList.decode(tmp, bytes);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        file + ": not a crcd parameter file (" + e.getMessage() + ")", e);
            }
            load(block, list, file.toString());
        }
    }
}
