package ai.crcd.train.model;

import ai.crcd.core.LogitsOnlyBlock;
import ai.crcd.models.Models;
import ai.crcd.train.run.AtomicFiles;
import ai.crcd.train.run.Checksums;
import ai.crcd.train.run.CorruptFileException;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.modality.cv.util.NDImageUtils;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.translate.Transform;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * A trained network as a DJL model folder that loads with nothing else:
 *
 * <pre>
 * DIR/serving.properties    DJL's model manifest: engine, blockFactory, option.modelName and the
 *                           {@link ModelInfo} keys (architecture, num_classes, in_channels, height,
 *                           width, mean, std, epoch, test_top1) + params_file and params_sha256
 * DIR/synset.txt            class names, one per line (read by ImageClassificationTranslator)
 * DIR/ARCH-NNNN.params      the weights in DJL's format (Model.save; NNNN = epoch), with the same
 *                           keys as model properties
 * </pre>
 *
 * <p>Plain DJL loads it: {@code Model.newInstance(ARCH)}, {@code setBlock(Models.create(ARCH, C,
 * Cin))}, {@code model.load(DIR)}; or in one call {@code Criteria.builder().setTypes(Image.class,
 * Classifications.class).optModelPath(DIR).optTranslatorFactory(new CrcdTranslatorFactory())},
 * where the folder's {@code blockFactory} ({@link CrcdBlockFactory}) builds the network. A folder
 * is written to a temporary sibling and moved into place ({@link AtomicFiles#replaceDirectory}), so
 * it is always complete. See docs/model-files.md.
 */
public final class ModelFolder {

    /** DJL's model manifest in the folder. */
    public static final String PROPERTIES = "serving.properties";

    /** The class names, one per line. */
    public static final String SYNSET = "synset.txt";

    private ModelFolder() {}

    /**
     * Writes a network and its description as a model folder, atomically (the folder is replaced as
     * a whole).
     *
     * @param dir the folder, e.g. {@code RUN/model}
     * @param network the initialised network (a {@code Models} network, not a wrapper)
     * @param info its description
     * @throws IOException if writing fails
     */
    public static void write(Path dir, Block network, ModelInfo info) throws IOException {
        Path abs = dir.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        AtomicFiles.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        try {
            writeFiles(tmp, network, info);
        } catch (IOException e) {
            AtomicFiles.deleteRecursively(tmp); // e.g. a full disk: nothing half-written is left
            throw AtomicFiles.writeFailure(e, abs, bytesOf(network));
        } catch (RuntimeException e) {
            AtomicFiles.deleteRecursively(tmp);
            throw e;
        }
        AtomicFiles.replaceDirectory(tmp, abs);
    }

    private static void writeFiles(Path tmp, Block network, ModelInfo info) throws IOException {
        String name = info.architecture();
        try (Model model = Model.newInstance(name, deviceOf(network))) {
            model.setBlock(network);
            info.toProperties().forEach(model::setProperty);
            model.setProperty("Epoch", Integer.toString(info.epoch())); // the file's NNNN
            model.save(tmp, name);
        }
        String file = String.format(Locale.ROOT, "%s-%04d.params", name, info.epoch());
        StringBuilder props = new StringBuilder();
        props.append("# crcd model folder in DJL's format; keys: docs/model-files.md\n");
        props.append("engine=PyTorch\n");
        props.append("blockFactory=").append(CrcdBlockFactory.class.getName()).append('\n');
        props.append("translatorFactory=")
                .append(CrcdTranslatorFactory.class.getName())
                .append('\n');
        props.append("option.modelName=").append(escape(name)).append('\n');
        info.toProperties()
                .forEach((k, v) -> props.append(k).append('=').append(escape(v)).append('\n'));
        props.append("params_file=").append(escape(file)).append('\n');
        props.append("params_sha256=").append(sha256(tmp.resolve(file))).append('\n');
        Files.writeString(tmp.resolve(PROPERTIES), props, StandardCharsets.ISO_8859_1);
        Files.writeString(
                tmp.resolve(SYNSET),
                String.join("\n", info.classNames()) + "\n",
                StandardCharsets.UTF_8);
    }

    /**
     * Copies a model folder (after checking its weights' checksum), atomically.
     *
     * @param from a model folder
     * @param to the new folder (replaced as a whole if it exists)
     * @throws IOException if reading or writing fails
     * @throws IllegalArgumentException one line naming a damaged file
     */
    public static void copy(Path from, Path to) throws IOException {
        verify(from, properties(from));
        Path abs = to.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        AtomicFiles.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        try (var files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, tmp.resolve(f.getFileName()));
            }
        }
        AtomicFiles.replaceDirectory(tmp, abs);
    }

    /**
     * Returns whether a path is a model folder (holds {@code serving.properties}).
     *
     * @param path a path
     * @return true for a model folder
     */
    public static boolean isModelFolder(Path path) {
        return path != null && Files.isRegularFile(path.resolve(PROPERTIES));
    }

    /**
     * Finds the model folder a user pointed at: the folder itself, or a run folder's {@code model/}
     * (also while a rewrite of it was interrupted).
     *
     * @param path a model folder or a run folder
     * @return the model folder
     * @throws IllegalArgumentException one line naming the path and what is expected
     */
    public static Path resolve(Path path) {
        Path self = AtomicFiles.existingDirectory(path);
        if (isModelFolder(self)) {
            return self;
        }
        Path inRun = AtomicFiles.existingDirectory(path.resolve(ModelSnapshots.LAST));
        if (isModelFolder(inRun)) {
            return inRun;
        }
        throw new IllegalArgumentException(
                path
                        + ": not a model folder (no "
                        + PROPERTIES
                        + "); give a run folder's model/ or"
                        + " best/ folder, written by crcd-train 'train' or 'distill'");
    }

    /**
     * Reads a model folder's description.
     *
     * @param dir a model folder
     * @return the description
     * @throws IOException if reading fails
     * @throws IllegalArgumentException one line naming the file and the bad key
     */
    public static ModelInfo readInfo(Path dir) throws IOException {
        Map<String, String> props = properties(dir);
        Path synset = dir.resolve(SYNSET);
        List<String> names =
                Files.isRegularFile(synset)
                        ? Files.readAllLines(synset, StandardCharsets.UTF_8).stream()
                                .filter(s -> !s.isEmpty())
                                .toList()
                        : List.of();
        return ModelInfo.fromProperties(props, names, dir.resolve(PROPERTIES).toString());
    }

    /**
     * Reads {@code serving.properties}.
     *
     * @param dir a model folder
     * @return its keys
     * @throws IOException if reading fails
     */
    static Map<String, String> properties(Path dir) throws IOException {
        Path file = dir.resolve(PROPERTIES);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(
                    dir + ": not a model folder (no " + PROPERTIES + ")");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            p.load(r);
        }
        Map<String, String> out = new HashMap<>();
        for (String k : p.stringPropertyNames()) {
            out.put(k, p.getProperty(k));
        }
        return out;
    }

    /**
     * Checks the weights file against the checksum in {@code serving.properties}.
     *
     * @param dir a model folder
     * @param props its {@code serving.properties} keys (or the arguments DJL read from it)
     * @throws CorruptFileException naming the damaged file
     * @throws IOException if reading fails
     * @throws IllegalArgumentException one line naming a missing file
     */
    static void verify(Path dir, Map<String, ?> props) throws IOException {
        Object file = props.get("params_file");
        Object sum = props.get("params_sha256");
        if (file == null || sum == null) {
            return; // a folder written by hand: nothing to check against
        }
        Path params = dir.resolve(file.toString());
        if (!Files.isRegularFile(params)) {
            throw new IllegalArgumentException(
                    params
                            + ": missing (named by "
                            + PROPERTIES
                            + "); the model folder is incomplete");
        }
        String actual = sha256(params);
        if (!actual.equals(sum.toString().trim())) {
            throw new CorruptFileException(
                    params,
                    "damaged (SHA-256 " + actual + ", " + PROPERTIES + " says " + sum + ")",
                    "use the run's best/ folder or train again");
        }
    }

    /**
     * Loads a model folder with plain DJL ({@code Model.newInstance} + {@code setBlock} + {@code
     * load}) into a network of crcd-models, after checking the weights' checksum.
     *
     * @param dir a model folder or a run folder
     * @param device where the weights go
     * @return the model; its block is the network (full {@code FeatureOutput}); close it
     * @throws IOException if reading fails
     * @throws IllegalArgumentException one line naming the file and the problem
     */
    public static Model load(Path dir, Device device) throws IOException {
        Path d = resolve(dir);
        ModelInfo info = readInfo(d);
        verify(d, properties(d));
        Model model = Model.newInstance(info.architecture(), device);
        try {
            model.setBlock(
                    Models.create(info.architecture(), info.numClasses(), info.inChannels()));
            model.load(d, info.architecture());
            return model;
        } catch (MalformedModelException | IOException | RuntimeException e) {
            model.close();
            throw new IllegalArgumentException(
                    d + ": cannot load the weights of " + info + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Copies the weights of a model folder into an initialised network (e.g. a frozen teacher),
     * through a fresh network of the same architecture that DJL loads first.
     *
     * @param dir a model folder
     * @param target the initialised network that receives the weights
     * @param fresh an uninitialised network of the same architecture and class count
     * @throws IOException if reading fails
     * @throws IllegalArgumentException one line naming the folder and the mismatch
     */
    public static void loadInto(Path dir, Block target, Block fresh) throws IOException {
        ModelInfo info = readInfo(dir);
        verify(dir, properties(dir));
        try (Model model = Model.newInstance(info.architecture(), deviceOf(target))) {
            model.setBlock(fresh);
            model.load(dir, info.architecture());
            ParameterFiles.load(target, ParameterFiles.toNDList(fresh), dir.toString());
        } catch (MalformedModelException | IllegalStateException e) {
            throw new IllegalArgumentException(
                    dir + ": cannot load the weights of " + info + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads trained weights into an initialised network from either kind of file crcd writes: a
     * crcd {@code model.params} ({@link ParameterFiles}) or a model folder (a run folder, its
     * {@code model/} or {@code best/}).
     *
     * @param target the initialised network
     * @param fileOrFolder the {@code model.params} file or the folder
     * @param architecture the target's model name (a folder holding another one is refused)
     * @param fresh makes an uninitialised network like the target (used for a folder)
     * @param manager a manager for temporary arrays
     * @throws IOException if reading fails
     * @throws IllegalArgumentException one line naming the file and the mismatch
     */
    public static void readWeights(
            Block target,
            Path fileOrFolder,
            String architecture,
            Supplier<? extends Block> fresh,
            NDManager manager)
            throws IOException {
        if (!Files.isDirectory(fileOrFolder)) {
            ParameterFiles.read(target, fileOrFolder, manager);
            return;
        }
        Path dir = resolve(fileOrFolder);
        ModelInfo info = readInfo(dir);
        if (!info.architecture().equalsIgnoreCase(architecture)) {
            throw new IllegalArgumentException(
                    dir + ": holds a " + info.architecture() + ", not a " + architecture);
        }
        loadInto(dir, target, fresh.get());
    }

    /**
     * Returns a DJL {@link Criteria} that loads a model folder as an image classifier in one call:
     * {@code ModelFolder.criteria(dir).loadModel().newPredictor()}.
     *
     * @param dir a model folder
     * @return the criteria
     */
    public static Criteria<Image, Classifications> criteria(Path dir) {
        return Criteria.builder()
                .setTypes(Image.class, Classifications.class)
                .optModelPath(resolve(dir))
                .optEngine("PyTorch")
                .optTranslatorFactory(new CrcdTranslatorFactory())
                .build();
    }

    /**
     * Returns DJL's standard image classification translator for a model: grey or colour decoding,
     * resize to the trained size when an image differs, {@code ToTensor}, the trained per-channel
     * normalisation (DJL's {@code Normalize} handles 3 channels only), softmax; class names from
     * the folder's {@code synset.txt}. Use it with a {@link LogitsOnlyBlock} view of the network.
     *
     * @param info the model's description
     * @return the translator
     */
    public static ImageClassificationTranslator translator(ModelInfo info) {
        return ImageClassificationTranslator.builder()
                .optFlag(info.inChannels() == 1 ? Image.Flag.GRAYSCALE : Image.Flag.COLOR)
                .addTransform(new FitSize(info.width(), info.height()))
                .addTransform(new ToTensor())
                .addTransform(new ChannelNormalize(info.mean(), info.std()))
                .optApplySoftmax(true)
                .optSynset(info.classNames())
                .build();
    }

    /**
     * Returns the SHA-256 of a file as lower-case hex.
     *
     * @param file the file
     * @return 64 hex digits
     * @throws IOException if reading fails
     */
    static String sha256(Path file) throws IOException {
        return Checksums.sha256Hex(Files.readAllBytes(file)); // crcd's one checksum helper
    }

    /** About the size of a network's weights file. */
    private static long bytesOf(Block block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().isInitialized()) {
                NDArray a = p.getValue().getArray();
                n += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return n;
    }

    private static Device deviceOf(Block block) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().isInitialized()) {
                return p.getValue().getArray().getDevice();
            }
        }
        return Device.cpu();
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** Resizes an (H, W, C) image to the trained size only when it differs (bilinear). */
    private static final class FitSize implements Transform {
        private final int width;
        private final int height;

        FitSize(int width, int height) {
            this.width = width;
            this.height = height;
        }

        @Override
        public NDArray transform(NDArray array) {
            long[] s = array.getShape().getShape(); // (H, W, C)
            if (s[s.length - 3] == height && s[s.length - 2] == width) {
                return array;
            }
            return NDImageUtils.resize(array, width, height);
        }
    }

    /** {@code (x - mean[c]) / std[c]} on a (C, H, W) tensor, for any number of channels C. */
    private static final class ChannelNormalize implements Transform {
        private final float[] mean;
        private final float[] std;

        ChannelNormalize(float[] mean, float[] std) {
            this.mean = mean.clone();
            this.std = std.clone();
        }

        @Override
        public NDArray transform(NDArray array) {
            Shape s = new Shape(mean.length, 1, 1);
            NDManager m = array.getManager();
            return array.sub(m.create(mean, s)).div(m.create(std, s)); // (C, H, W)
        }
    }
}
