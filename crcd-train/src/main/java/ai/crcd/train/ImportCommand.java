package ai.crcd.train;

import ai.crcd.models.CifarNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.imports.NameMaps;
import ai.crcd.train.imports.TorchCheckpoint;
import ai.crcd.train.imports.TorchImport;
import ai.crcd.train.imports.TorchTensor;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code import}: converts a PyTorch checkpoint of a zoo model (RepDistiller, mdistiller, any
 * {@code torch.save} of such a state_dict) into crcd's parameter file {@code DIR/model.params},
 * usable as {@code teacher.checkpoint}. The class count and input channels default to those of the
 * file (its classifier and first convolution). See docs/import.md.
 */
@Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description =
                "Convert a PyTorch checkpoint (.pth/.pt, zip or legacy format) of a zoo model into"
                        + " a crcd teacher file DIR/model.params (see docs/import.md).")
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

    @Option(names = "--out", required = true, description = "Output folder (created).")
    Path out;

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
        Path target = out.resolve(PARAMS_FILE);
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create(model, c, in);
            net.initialize(m, DataType.FLOAT32, new Shape(1, in, 32, 32));
            try {
                TorchImport.load(net, model, sd, from.toString(), m);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("import: " + e.getMessage());
            }
            Files.createDirectories(out); // only now: a failed import leaves nothing behind
            ParameterFiles.save(net, target);
        }
        System.out.printf(
                Locale.ROOT,
                "imported %s (%d classes, %d input channel%s, %d tensors) from %s into %s;"
                        + " use it as teacher.checkpoint with teacher.name: %s%n",
                model,
                c,
                in,
                in == 1 ? "" : "s",
                map.size(),
                from,
                target,
                model);
        return 0;
    }

    private static int dim(Map<String, TorchTensor> sd, String key, int axis, int fallback) {
        TorchTensor t = key == null ? null : sd.get(key);
        long[] s = t == null ? null : t.shape();
        return s == null || s.length <= axis ? fallback : (int) s[axis];
    }
}
