package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.model.TensorExport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code export}: a model folder's weights as a DJL model folder, safetensors or npz, with
 * RepDistiller/PyTorch parameter names ({@link TensorExport}).
 */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description =
                "Export a model folder's weights: djl (model folder), safetensors or npz"
                        + " (PyTorch names, docs/model-files.md).")
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model folder or run folder.")
    Path model;

    @Option(names = "--format", required = true, description = "One of: ${COMPLETION-CANDIDATES}.")
    TensorExport.Format format;

    @Option(
            names = "--out",
            description = "Target file (folder for djl); default: beside the model folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path written;
        try {
            written = TensorExport.export(model, format, out);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--model: " + e.getMessage());
        }
        System.out.println(
                "export " + format.name().toLowerCase(java.util.Locale.ROOT) + ": " + written);
        return 0;
    }
}
