package ai.crcd.train;

import ai.crcd.models.CifarNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.imports.NameMaps;
import ai.crcd.train.imports.TorchCheckpoint;
import ai.crcd.train.imports.TorchImport;
import ai.crcd.train.imports.TorchTensor;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code import}: converts a PyTorch checkpoint of a zoo model (RepDistiller, mdistiller, any
 * {@code torch.save} of such a state_dict) into a DJL model folder {@code DIR} ({@link
 * ModelFolder}) that also holds crcd's parameter file {@code DIR/model.params}; either is a {@code
 * teacher.checkpoint}. The class count and input channels default to those of the file (its
 * classifier and first convolution). See docs/import.md.
 */
@Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description =
                "Convert a PyTorch checkpoint (.pth/.pt, zip or legacy format) of a zoo model into"
                        + " a crcd model folder DIR with DIR/model.params (see docs/import.md).")
final class ImportCommand implements Callable<Integer> {

    /** The file written into {@code --out}. */
    static final String PARAMS_FILE = "model.params";

    @Option(names = "--from", required = true, description = "The PyTorch checkpoint (.pth/.pt).")
    Path from;

    @Option(
            names = "--model",
            required = true,
            description = "The model it holds, a name of the zoo (e.g. resnet32x4, wrn_40_2).")
    String model;

    @Option(
            names = "--classes",
            description = "Number of classes (default: the rows of the file's classifier).")
    Integer classes;

    @Option(
            names = "--in-channels",
            description = "Input channels (default: those of the file's first convolution).")
    Integer inChannels;

    @Option(
            names = "--out",
            required = true,
            description =
                    "Output: a DJL model folder (replaced as a whole) holding also model.params;"
                            + " either is a teacher.checkpoint.")
    Path out;

    @Option(
            names = "--size",
            description = "Input height = width recorded in the model folder (default 32).")
    Integer size;

    @Option(
            names = "--mean",
            split = ",",
            description =
                    "Per-channel mean of pixel/255 the network was trained with, recorded for"
                            + " eval/predict (default 0).")
    float[] mean;

    @Option(names = "--std", split = ",", description = "Per-channel std of pixel/255 (default 1).")
    float[] std;

    @Override
    public Integer call() throws IOException {
        Map<String, TorchTensor> sd;
        try {
            Models.builder(model); // an unknown name is one line with the valid names
        } catch (IllegalArgumentException e) {
            throw new ConfigException("import --model: " + e.getMessage());
        }
        try {
            sd = TorchCheckpoint.readStateDict(from);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("import --from: " + e.getMessage());
        }
        // the class count and input channels the file was made for, from its classifier and stem
        List<String> names = new ArrayList<>(Models.create(model, 1, 1).getParameters().keys());
        Map<String, String> map;
        try {
            map = NameMaps.map(model, names);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("import --model: " + e.getMessage());
        }
        int c = classes != null ? classes : dim(sd, map.get(names.get(names.size() - 2)), 0, 100);
        int in = inChannels != null ? inChannels : dim(sd, map.get(names.get(0)), 1, 3);
        if (Files.exists(out) && !ModelFolder.isModelFolder(out) && !isEmptyDir(out)) {
            throw new ConfigException(
                    "import --out: "
                            + out
                            + " exists and is not a model folder; give a new or empty folder (it"
                            + " is replaced as a whole)");
        }
        Path target = out.resolve(PARAMS_FILE);
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create(model, c, in);
            net.initialize(m, DataType.FLOAT32, new Shape(1, in, 32, 32));
            try {
                TorchImport.load(net, model, sd, from.toString(), m);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("import: " + e.getMessage());
            }
            // a DJL model folder (ModelFolder, replaced as a whole; only now, so a failed import
            // leaves nothing behind) that also holds crcd's model.params
            ModelFolder.write(out, net, info(net.modelName(), c, in));
            ParameterFiles.save(net, target);
        }
        System.out.printf(
                Locale.ROOT,
                "imported %s (%d classes, %d input channel%s, %d tensors) from %s into %s (a model"
                        + " folder, with %s); use either as teacher.checkpoint with teacher.name:"
                        + " %s%n",
                model,
                c,
                in,
                in == 1 ? "" : "s",
                map.size(),
                from,
                out,
                target,
                model);
        return 0;
    }

    private ModelInfo info(String architecture, int c, int in) {
        float[] m = mean != null ? mean : new float[in];
        float[] sd = std != null ? std : filled(in, 1f);
        if (m.length != in || sd.length != in) {
            throw new ConfigException(
                    "import --mean/--std: " + in + " value(s) needed, one per input channel");
        }
        List<String> names = new ArrayList<>();
        for (int k = 0; k < c; k++) {
            names.add(Integer.toString(k));
        }
        int s = size != null ? size : 32;
        return new ModelInfo(architecture, "import", c, in, s, s, m, sd, names, 0, Double.NaN);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static int dim(Map<String, TorchTensor> sd, String key, int axis, int fallback) {
        TorchTensor t = key == null ? null : sd.get(key);
        long[] s = t == null ? null : t.shape();
        return s == null || s.length <= axis ? fallback : (int) s[axis];
    }
}
