package ai.crcd.train.model;

import ai.crcd.train.run.AtomicFiles;
import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Exports a model folder's weights for other tools, under PyTorch-style names ({@link TorchNames}):
 * {@code safetensors} (loads with {@code safetensors.torch.load_file}), {@code npz} (a zip of
 * {@code .npy} files, {@code numpy.load}), or {@code djl} (a checked copy of the model folder).
 * Both tensor formats are written here from their specifications: no maintained Java library for
 * them is available from Maven Central for Java 17 without native code, and each is a few dozen
 * lines (see docs/model-files.md).
 */
public final class TensorExport {

    /** The export formats. */
    public enum Format {
        /** A DJL model folder (same layout as {@code RUN/model}). */
        DJL,
        /** One {@code .safetensors} file: 8-byte header length, JSON header, raw data. */
        SAFETENSORS,
        /** One {@code .npz} file: a zip of {@code NAME.npy}. */
        NPZ
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private TensorExport() {}

    /**
     * Exports a model folder.
     *
     * @param modelDir a model folder or run folder
     * @param format the format
     * @param out the target file (folder for {@code djl}); null for {@code RUN/ARCH.safetensors},
     *     {@code RUN/ARCH.npz} or {@code RUN/ARCH-djl/} beside the model folder
     * @return the written file or folder
     * @throws IOException if reading or writing fails
     * @throws IllegalArgumentException one line naming the bad folder
     */
    public static Path export(Path modelDir, Format format, Path out) throws IOException {
        Path dir = ModelFolder.resolve(modelDir);
        ModelInfo info = ModelFolder.readInfo(dir);
        Path parent = dir.toAbsolutePath().getParent();
        Path target =
                out != null
                        ? out
                        : parent.resolve(
                                info.architecture()
                                        + switch (format) {
                                            case DJL -> "-djl";
                                            case SAFETENSORS -> ".safetensors";
                                            case NPZ -> ".npz";
                                        });
        if (format == Format.DJL) {
            ModelFolder.copy(dir, target);
            return target;
        }
        try (Model model = ModelFolder.load(dir, Device.cpu())) {
            Block net = model.getBlock();
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            Map<String, String> names = TorchNames.of(info.architecture(), net);
            for (Pair<String, Parameter> p : net.getParameters()) {
                tensors.put(names.get(p.getKey()), p.getValue().getArray());
            }
            byte[] bytes =
                    format == Format.SAFETENSORS
                            ? safetensors(tensors, metadata(info))
                            : npz(tensors);
            AtomicFiles.write(target, bytes);
            return target;
        }
    }

    private static Map<String, String> metadata(ModelInfo info) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        info.toProperties().forEach(m::put);
        return m;
    }

    /**
     * Encodes tensors as safetensors: an 8-byte little-endian header length, the JSON header
     * ({@code {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
     * "__metadata__": {...}}}, padded with spaces to a multiple of 8), then the tensors' raw
     * little-endian bytes in the header's order.
     *
     * @param tensors name to array, in file order
     * @param metadata string metadata, or empty
     * @return the file content
     * @throws IOException never (in-memory)
     */
    public static byte[] safetensors(Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", metadata);
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            byte[] raw = littleEndian(e.getValue());
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", safetensorsType(e.getValue().getDataType()));
            t.put("shape", e.getValue().getShape().getShape());
            t.put("data_offsets", new long[] {data.size(), data.size() + raw.length});
            header.put(e.getKey(), t);
            data.write(raw);
        }
        StringBuilder json = new StringBuilder(JSON.writeValueAsString(header));
        while (json.length() % 8 != 0) {
            json.append(' ');
        }
        byte[] h = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out =
                ByteBuffer.allocate(8 + h.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(data.toByteArray());
        return out.array();
    }

    /**
     * Encodes tensors as an npz archive: one {@code NAME.npy} entry (format 1.0: magic, header dict
     * with {@code descr}, {@code fortran_order: False} and {@code shape}, padded to 64 bytes, then
     * C-order little-endian data) per tensor.
     *
     * @param tensors name to array
     * @return the file content
     * @throws IOException never (in-memory)
     */
    public static byte[] npz(Map<String, NDArray> tensors) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                zip.write(npy(e.getValue()));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] npy(NDArray a) {
        long[] shape = a.getShape().getShape();
        StringBuilder dims = new StringBuilder("(");
        for (long d : shape) {
            dims.append(d).append(shape.length == 1 ? ",)" : ", ");
        }
        String tuple =
                shape.length == 1 ? dims.toString() : dims.toString().replaceAll(", $", "") + ")";
        String dict =
                String.format(
                        Locale.ROOT,
                        "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                        npyType(a.getDataType()),
                        tuple);
        StringBuilder header = new StringBuilder(dict);
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] raw = littleEndian(a);
        ByteBuffer out =
                ByteBuffer.allocate(10 + h.length + raw.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII));
        out.put((byte) 1).put((byte) 0).putShort((short) h.length).put(h).put(raw);
        return out.array();
    }

    private static byte[] littleEndian(NDArray a) {
        DataType t = a.getDataType();
        long n = a.getShape().size();
        ByteBuffer b =
                ByteBuffer.allocate(Math.toIntExact(n * t.getNumOfBytes()))
                        .order(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case FLOAT32 -> {
                for (float v : a.toFloatArray()) {
                    b.putFloat(v);
                }
            }
            case FLOAT64 -> {
                for (double v : a.toDoubleArray()) {
                    b.putDouble(v);
                }
            }
            case INT64 -> {
                for (long v : a.toLongArray()) {
                    b.putLong(v);
                }
            }
            case INT32 -> {
                for (int v : a.toIntArray()) {
                    b.putInt(v);
                }
            }
            default ->
                    throw new IllegalArgumentException(
                            "export: tensor '"
                                    + a.getName()
                                    + "' has type "
                                    + t
                                    + "; supported: float32,"
                                    + " float64, int64, int32");
        }
        return b.array();
    }

    private static String safetensorsType(DataType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
            case INT32 -> "I32";
            default -> throw new IllegalArgumentException("export: unsupported type " + t);
        };
    }

    private static String npyType(DataType t) {
        return switch (t) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT64 -> "<i8";
            case INT32 -> "<i4";
            default -> throw new IllegalArgumentException("export: unsupported type " + t);
        };
    }
}
