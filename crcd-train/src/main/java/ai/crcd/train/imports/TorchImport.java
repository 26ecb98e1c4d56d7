package ai.crcd.train.imports;

import ai.crcd.train.config.ConfigException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads a PyTorch checkpoint of a RepDistiller/mdistiller network into crcd's network of the same
 * name: reads the state_dict ({@link TorchCheckpoint}), maps the names ({@link NameMaps}) and
 * copies every tensor into the parameter or BatchNorm statistic it belongs to.
 *
 * <pre>{@code
 * CifarNetwork net = Models.create("resnet32x4", 100, 3);
 * net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
 * TorchImport.load(net, "resnet32x4", Path.of("resnet32x4_vanilla/ckpt_epoch_240.pth"), manager);
 * }</pre>
 *
 * <p>Checks, in this order, each failing with one line naming the file and the first offending
 * tensor: every parameter of the network has its tensor in the file (missing), every tensor of the
 * file belongs to a parameter ({@code num_batches_tracked} excepted; unexpected), shapes are equal
 * (mis-shaped: usually another class count or model), and values are finite.
 */
public final class TorchImport {

    private static final String SUFFIX_IGNORED = "num_batches_tracked";

    private TorchImport() {}

    /**
     * Returns whether a path names a PyTorch checkpoint by its extension ({@code .pth}, {@code
     * .pt}, {@code .pth.tar}, {@code .ckpt}).
     *
     * @param file a path
     * @return true if it should be read with {@link TorchCheckpoint}
     */
    public static boolean isTorchFile(Path file) {
        String n =
                file.getFileName() == null
                        ? ""
                        : file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".pth")
                || n.endsWith(".pt")
                || n.endsWith(".pth.tar")
                || n.endsWith(".ckpt");
    }

    /**
     * Loads a PyTorch checkpoint given as {@code teacher.checkpoint} into the teacher network.
     *
     * @param teacher the teacher, initialised
     * @param model {@code teacher.name}, selecting the name map
     * @param checkpoint the value of {@code teacher.checkpoint}
     * @param manager a manager for temporary arrays
     * @throws ConfigException one line starting with {@code teacher.checkpoint:} naming the file
     *     and the first missing, unexpected or mis-shaped tensor, or why it cannot be read
     * @throws IOException if reading fails
     */
    public static void loadTeacher(
            Block teacher, String model, String checkpoint, NDManager manager) throws IOException {
        try {
            load(teacher, model, Path.of(checkpoint), manager);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("teacher.checkpoint: " + e.getMessage());
        }
    }

    /**
     * Reads a checkpoint file into an initialised network.
     *
     * @param net the network, initialised (its parameters have arrays)
     * @param model the model name, selecting the name map (see {@link NameMaps})
     * @param file the {@code .pth}/{@code .pt} file
     * @param manager a manager for temporary arrays
     * @throws IllegalArgumentException one line naming the file and the first missing, unexpected
     *     or mis-shaped tensor, or why the file cannot be read
     * @throws IOException if reading fails
     */
    public static void load(Block net, String model, Path file, NDManager manager)
            throws IOException {
        load(net, model, TorchCheckpoint.readStateDict(file), file.toString(), manager);
    }

    /**
     * Copies a state_dict into an initialised network.
     *
     * @param net the network, initialised
     * @param model the model name, selecting the name map
     * @param stateDict PyTorch tensors by key
     * @param what the source, for messages (e.g. the file)
     * @param manager a manager for temporary arrays
     * @throws IllegalArgumentException naming the first missing, unexpected or mis-shaped tensor
     */
    public static void load(
            Block net,
            String model,
            Map<String, TorchTensor> stateDict,
            String what,
            NDManager manager) {
        List<Pair<String, Parameter>> params = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            params.add(p);
            names.add(p.getKey());
        }
        Map<String, String> map = NameMaps.map(model, names);
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (!stateDict.containsKey(e.getValue())) {
                throw new IllegalArgumentException(
                        what
                                + ": missing tensor '"
                                + e.getValue()
                                + "' (crcd parameter "
                                + e.getKey()
                                + "); is this a checkpoint of a RepDistiller "
                                + model
                                + "?");
            }
        }
        Set<String> wanted = new HashSet<>(map.values());
        for (String k : stateDict.keySet()) {
            if (!wanted.contains(k) && !k.endsWith(SUFFIX_IGNORED)) {
                throw new IllegalArgumentException(
                        what
                                + ": unexpected tensor '"
                                + k
                                + "' "
                                + stateDict.get(k).shapeString()
                                + ", not part of crcd's "
                                + model
                                + "; is this a checkpoint of another model?");
            }
        }
        for (Pair<String, Parameter> p : params) {
            String key = map.get(p.getKey());
            TorchTensor t = stateDict.get(key);
            Shape expected = p.getValue().getArray().getShape();
            if (!Arrays.equals(t.shape(), expected.getShape())) {
                throw new IllegalArgumentException(
                        what
                                + ": tensor '"
                                + key
                                + "' has shape "
                                + t.shapeString()
                                + ", crcd's "
                                + model
                                + " expects "
                                + TorchTensor.shapeString(expected.getShape())
                                + " (another class count (--classes / data set), input channels or"
                                + " model?)");
            }
        }
        for (Pair<String, Parameter> p : params) {
            String key = map.get(p.getKey());
            float[] v = stateDict.get(key).toFloatArray();
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException(
                            what
                                    + ": tensor '"
                                    + key
                                    + "' holds a non-finite value (NaN or infinity)");
                }
            }
            NDArray dst = p.getValue().getArray();
            try (NDManager tmp = manager.newSubManager(dst.getDevice())) {
                NDArray src = tmp.create(v, dst.getShape()).toType(dst.getDataType(), false);
                dst.set(new NDIndex("..."), src);
            }
        }
    }
}
