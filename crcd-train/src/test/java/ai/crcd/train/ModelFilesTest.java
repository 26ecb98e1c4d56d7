package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.LogitsOnlyBlock;
import ai.crcd.models.Models;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.model.ModelFolder;
import ai.crcd.train.model.ModelInfo;
import ai.crcd.train.model.ModelSnapshots;
import ai.crcd.train.run.CorruptFileException;
import ai.crcd.train.run.ParameterFiles;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DJL model folders of a real run (resnet8 briefly trained on a Fashion-MNIST subset): plain DJL
 * loading, Predictor + ImageClassificationTranslator on a PNG, eval and export.
 */
class ModelFilesTest {

    private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
    private static final int TEST_PER_CLASS = 30;

    @TempDir static Path tmp;
    private static Path run;
    private static RunResult result;

    @BeforeAll
    static void train() {
        Assumptions.assumeTrue(
                Files.isRegularFile(FASHION.resolve("t10k-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed (scripts/setup.sh)");
        run = tmp.resolve("run");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nseed: 1\ndevice: cpu\n"
                                + "data: {name: fashion-mnist, subset_per_class: 100,"
                                + " test_subset_per_class: "
                                + TEST_PER_CLASS
                                + ", augment: false,"
                                + " batch_size: 32, test_batch_size: 100}\n"
                                + "model: {name: resnet8}\n"
                                + "optim: {lr: 0.05, epochs: 3, milestones: [2]}\n"
                                + "output: {dir: "
                                + run
                                + "}\n",
                        List.of());
        result = TrainingRun.execute(cfg, run, false);
        assertTrue(result.lastTop1() > 50, "resnet8 top-1 " + result.lastTop1());
    }

    /** The trained network, read from the run's crcd model.params (not from the DJL folder). */
    private static Block reference(NDManager m) throws Exception {
        Block ref = Models.create("resnet8", 10, 1);
        ref.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
        ParameterFiles.read(ref, run.resolve(TrainingRun.MODEL_FILE), m);
        return ref;
    }

    private static float[] randomImages(int n) {
        Random r = new Random(7);
        float[] x = new float[n * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void everyEpochKeepsTheLastAndTheBestAsDjlFolders() throws Exception {
        ModelInfo last = ModelFolder.readInfo(run.resolve(ModelSnapshots.LAST));
        assertEquals("resnet8", last.architecture());
        assertEquals("train", last.kind());
        assertEquals(10, last.numClasses());
        assertEquals(1, last.inChannels());
        assertEquals(28, last.height());
        assertEquals(28, last.width());
        ImageSet train = DataSets.open("fashion-mnist", null, true, null);
        assertArrayEquals(train.mean(), last.mean());
        assertArrayEquals(train.std(), last.std());
        assertEquals(3, last.epoch());
        assertEquals(result.lastTop1(), last.testTop1());
        assertTrue(Files.isRegularFile(run.resolve("model/resnet8-0003.params")));

        ModelInfo best = ModelFolder.readInfo(run.resolve(ModelSnapshots.BEST));
        assertEquals(result.bestEpoch(), best.epoch());
        assertEquals(result.bestTop1(), best.testTop1());
        try (var files = Files.list(run)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertFalse(
                    names.stream().anyMatch(n -> n.endsWith(".tmp") || n.endsWith(".old")),
                    names.toString());
        }
        // a run folder or its model/ is accepted where a teacher checkpoint is expected
        assertEquals(
                run.resolve("model").toAbsolutePath(), ModelFolder.resolve(run).toAbsolutePath());
    }

    @Test
    void plainDjlLoadsTheFolderAndGivesTheTrainedLogits() throws Exception {
        float[] x = randomImages(4);
        float[] expected;
        try (NDManager m = NDManager.newBaseManager()) {
            Block ref = reference(m);
            NDArray in = m.create(x, new Shape(4, 1, 28, 28));
            expected =
                    ref.forward(new ParameterStore(m, false), new NDList(in), false)
                            .get(0)
                            .toFloatArray();
        }
        // 1. Model.newInstance + setBlock(Models.create) + load(dir): nothing but DJL
        try (Model model = Model.newInstance("resnet8")) {
            model.setBlock(Models.create("resnet8", 10, 1));
            model.load(run.resolve("model"));
            NDManager m = model.getNDManager();
            NDArray in = m.create(x, new Shape(4, 1, 28, 28));
            float[] got =
                    model.getBlock()
                            .forward(new ParameterStore(m, false), new NDList(in), false)
                            .get(0)
                            .toFloatArray();
            assertArrayEquals(expected, got);
            assertEquals("10", model.getProperty("num_classes")); // stored in the .params file too
        }
        // 2. one Criteria call: the folder's blockFactory builds the logits-only network
        Criteria<Image, Classifications> criteria =
                Criteria.builder()
                        .setTypes(Image.class, Classifications.class)
                        .optModelPath(run.resolve("best"))
                        .optTranslatorFactory(new ai.crcd.train.model.CrcdTranslatorFactory())
                        .build();
        try (ZooModel<Image, Classifications> zoo = criteria.loadModel()) {
            assertTrue(zoo.getBlock() instanceof LogitsOnlyBlock);
            NDManager m = zoo.getNDManager();
            NDList out =
                    zoo.getBlock()
                            .forward(
                                    new ParameterStore(m, false),
                                    new NDList(m.create(x, new Shape(4, 1, 28, 28))),
                                    false);
            assertEquals(1, out.size());
            assertEquals(new Shape(4, 10), out.get(0).getShape());
            if (result.bestEpoch() == 3) {
                assertArrayEquals(expected, out.get(0).toFloatArray());
            }
        }
        try (ZooModel<Image, Classifications> zoo = ModelFolder.criteria(run).loadModel()) {
            NDManager m = zoo.getNDManager();
            float[] got =
                    zoo.getBlock()
                            .forward(
                                    new ParameterStore(m, false),
                                    new NDList(m.create(x, new Shape(4, 1, 28, 28))),
                                    false)
                            .singletonOrThrow()
                            .toFloatArray();
            assertArrayEquals(expected, got);
        }
    }

    @Test
    void predictorClassifiesARealFashionMnistPng() throws Exception {
        ImageSet test = DataSets.open("fashion-mnist", null, false, null);
        int index = 0;
        while (test.label(index) != 1) { // the first trouser of the test split
            index++;
        }
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        int[] px = new int[28 * 28];
        float[] normalised = new float[28 * 28];
        float mean = test.mean()[0];
        float std = test.std()[0];
        for (int i = 0; i < px.length; i++) {
            px[i] = test.pixel(index, 0, i / 28, i % 28);
            normalised[i] = (px[i] / 255f - mean) / std;
        }
        img.getRaster().setPixels(0, 0, 28, 28, px);
        Path png = tmp.resolve("trouser.png");
        ImageIO.write(img, "png", png.toFile());

        float[] expected;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray in = m.create(normalised, new Shape(1, 1, 28, 28));
            expected =
                    reference(m)
                            .forward(new ParameterStore(m, false), new NDList(in), false)
                            .get(0)
                            .softmax(1)
                            .toFloatArray();
        }
        try (ZooModel<Image, Classifications> zoo = ModelFolder.criteria(run).loadModel();
                Predictor<Image, Classifications> predictor = zoo.newPredictor()) {
            Classifications c = predictor.predict(ImageFactory.getInstance().fromFile(png));
            assertEquals("1", c.best().getClassName(), c.toString());
            for (int k = 0; k < 10; k++) {
                assertEquals(expected[k], c.get(Integer.toString(k)).getProbability(), 1e-5);
            }
        }
    }

    private static JsonNode evalJson(Path dir) throws Exception {
        return new ObjectMapper().readTree(dir.resolve(ModelEvaluation.JSON).toFile());
    }

    @Test
    void evalReproducesTheRunsTop1() throws Exception {
        Path out = tmp.resolve("eval");
        assertEquals(
                0,
                Main.run(
                        "eval",
                        "--model",
                        run.resolve("model").toString(),
                        "--data",
                        "fashion-mnist",
                        "--per-class",
                        Integer.toString(TEST_PER_CLASS),
                        "--batch-size",
                        "100",
                        "--out",
                        out.toString()));
        JsonNode json = evalJson(out);
        assertEquals(result.lastTop1(), json.get("test_top1").asDouble(), 0.0);
        assertEquals(result.lastTop5(), json.get("test_top5").asDouble(), 0.0);
        assertEquals(10 * TEST_PER_CLASS, json.get("images").asInt());
        List<String> rows = Files.readAllLines(out.resolve(ModelEvaluation.PER_CLASS));
        assertEquals("class,name,images,correct,accuracy", rows.get(0));
        assertEquals(11, rows.size());
        long correct = 0;
        for (String r : rows.subList(1, 11)) {
            String[] f = r.split(",");
            assertEquals(TEST_PER_CLASS, Integer.parseInt(f[2]));
            correct += Long.parseLong(f[3]);
        }
        // arg max hits = top-1 hits (no exact ties in float logits)
        assertEquals(result.lastTop1(), 100.0 * correct / (10 * TEST_PER_CLASS), 1e-9);
        BufferedImage cm = ImageIO.read(out.resolve(ModelEvaluation.CONFUSION_PNG).toFile());
        assertNotNull(cm);
        assertTrue(cm.getWidth() >= 480);

        // without --data: the run's own test split from RUN/config.yaml; best/ gives the best epoch
        assertEquals(0, Main.run("eval", "--model", run.resolve("best").toString()));
        JsonNode best = evalJson(run.resolve("eval-fashion-mnist"));
        assertEquals(result.bestTop1(), best.get("test_top1").asDouble(), 0.0);
        assertEquals(
                result.history().get(result.bestEpoch() - 1).testTop5(),
                best.get("test_top5").asDouble(),
                0.0);
    }

    @Test
    void evalOfAnImageFolderMatchesTheNamedDataSet() throws Exception {
        // the run's test images as PNG files in class folders 0..9
        ImageSet test =
                DataSets.open("fashion-mnist", null, false, Map.of("perClass", TEST_PER_CLASS));
        Path folder = tmp.resolve("pngs");
        for (int i = 0; i < test.size(); i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            int[] px = new int[28 * 28];
            for (int p = 0; p < px.length; p++) {
                px[p] = test.pixel(i, 0, p / 28, p % 28);
            }
            img.getRaster().setPixels(0, 0, 28, 28, px);
            Path dir = Files.createDirectories(folder.resolve(Integer.toString(test.label(i))));
            ImageIO.write(img, "png", dir.resolve(String.format("%04d.png", i)).toFile());
        }
        Path out = tmp.resolve("eval-pngs");
        assertEquals(
                0,
                Main.run(
                        "eval",
                        "--model",
                        run.toString(),
                        "--data",
                        folder.toString(),
                        "--batch-size",
                        "100",
                        "--out",
                        out.toString()));
        JsonNode json = evalJson(out);
        assertEquals(10 * TEST_PER_CLASS, json.get("images").asInt());
        assertEquals(result.lastTop1(), json.get("test_top1").asDouble(), 1e-9);
    }

    @Test
    void badModelFolderIsOneLineAndExitTwo() throws Exception {
        Path damaged = tmp.resolve("damaged");
        Files.createDirectories(damaged);
        try (var files = Files.list(run.resolve("model"))) {
            for (Path p : files.toList()) {
                Files.copy(p, damaged.resolve(p.getFileName()));
            }
        }
        Path params = damaged.resolve("resnet8-0003.params");
        byte[] b = Files.readAllBytes(params);
        b[b.length - 5] ^= 0x40;
        Files.write(params, b);
        CorruptFileException e =
                assertThrows(
                        CorruptFileException.class,
                        () -> ModelFolder.load(damaged, ai.djl.Device.cpu()));
        assertTrue(e.getMessage().startsWith(params + ": damaged (SHA-256"), e.getMessage());

        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        int code;
        try {
            code =
                    Main.run(
                            "export",
                            "--model",
                            tmp.resolve("nothing").toString(),
                            "--format",
                            "npz");
        } finally {
            System.setErr(old);
        }
        assertEquals(2, code);
        String text = err.toString().trim();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.contains("not a model folder"), text);
    }

    /** RepDistiller's resnet8 state_dict keys (without BN's num_batches_tracked). */
    private static TreeSet<String> repDistillerResnet8() {
        TreeSet<String> keys = new TreeSet<>();
        List<String> bn = List.of("weight", "bias", "running_mean", "running_var");
        keys.add("conv1.weight");
        bn.forEach(s -> keys.add("bn1." + s));
        for (int l = 1; l <= 3; l++) {
            String p = "layer" + l + ".0.";
            keys.add(p + "conv1.weight");
            keys.add(p + "conv2.weight");
            for (String s : bn) {
                keys.add(p + "bn1." + s);
                keys.add(p + "bn2." + s);
                if (l > 1) {
                    keys.add(p + "downsample.1." + s);
                }
            }
            if (l > 1) {
                keys.add(p + "downsample.0.weight");
            }
        }
        keys.add("fc.weight");
        keys.add("fc.bias");
        return keys;
    }

    /** Reads a safetensors file per its specification (independent of the writer). */
    private static Map<String, float[]> readSafetensors(Path file, Map<String, long[]> shapes)
            throws Exception {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong();
        JsonNode header =
                new ObjectMapper().readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode t = header.get(name);
            assertEquals("F32", t.get("dtype").asText());
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            float[] v = new float[(int) ((end - begin) / 4)];
            ByteBuffer d =
                    ByteBuffer.wrap(all, (int) (8 + n + begin), (int) (end - begin))
                            .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v.length; i++) {
                v[i] = d.getFloat();
            }
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            shapes.put(name, shape);
            out.put(name, v);
        }
        assertEquals("resnet8", header.get("__metadata__").get("architecture").asText());
        return out;
    }

    /** Reads an npz archive of float32 .npy files per the NumPy format description. */
    private static Map<String, float[]> readNpz(Path file, Map<String, long[]> shapes)
            throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        Pattern header =
                Pattern.compile(
                        "\\{'descr': '<f4', 'fortran_order': False, 'shape': \\(([0-9, ]*)\\),"
                                + " \\}\\s*");
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                byte[] all = zip.readAllBytes();
                assertEquals((byte) 0x93, all[0]);
                assertEquals("NUMPY", new String(all, 1, 5, StandardCharsets.US_ASCII));
                int len = (all[8] & 0xFF) | (all[9] & 0xFF) << 8;
                assertEquals(0, (10 + len) % 64);
                Matcher m = header.matcher(new String(all, 10, len, StandardCharsets.US_ASCII));
                assertTrue(m.matches(), e.getName());
                List<Long> dims = new ArrayList<>();
                for (String s : m.group(1).split(",")) {
                    if (!s.isBlank()) {
                        dims.add(Long.parseLong(s.trim()));
                    }
                }
                String name = e.getName().substring(0, e.getName().length() - 4);
                shapes.put(name, dims.stream().mapToLong(Long::longValue).toArray());
                ByteBuffer d =
                        ByteBuffer.wrap(all, 10 + len, all.length - 10 - len)
                                .order(ByteOrder.LITTLE_ENDIAN);
                float[] v = new float[(all.length - 10 - len) / 4];
                for (int i = 0; i < v.length; i++) {
                    v[i] = d.getFloat();
                }
                out.put(name, v);
            }
        }
        return out;
    }

    @Test
    void exportWritesTheTrainedTensorsUnderPyTorchNames() throws Exception {
        Path st = tmp.resolve("resnet8.safetensors");
        Path npz = tmp.resolve("resnet8.npz");
        assertEquals(
                0,
                Main.run(
                        "export",
                        "--model",
                        run.toString(),
                        "--format",
                        "safetensors",
                        "--out",
                        st.toString()));
        assertEquals(
                0,
                Main.run(
                        "export",
                        "--model",
                        run.toString(),
                        "--format",
                        "npz",
                        "--out",
                        npz.toString()));
        Map<String, long[]> stShapes = new HashMap<>();
        Map<String, long[]> npzShapes = new HashMap<>();
        Map<String, float[]> fromSt = readSafetensors(st, stShapes);
        Map<String, float[]> fromNpz = readNpz(npz, npzShapes);
        assertEquals(repDistillerResnet8(), new TreeSet<>(fromSt.keySet()));
        assertEquals(repDistillerResnet8(), new TreeSet<>(fromNpz.keySet()));

        Map<String, float[]> params = new LinkedHashMap<>();
        Map<String, long[]> paramShapes = new HashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            for (NDArray a : ParameterFiles.toNDList(reference(m))) {
                params.put(a.getName(), a.toFloatArray());
                paramShapes.put(a.getName(), a.getShape().getShape());
            }
        }
        Map<String, String> known = new LinkedHashMap<>();
        known.put("conv1.weight", "01stem_01conv_weight");
        known.put("bn1.running_mean", "01stem_02bn_runningMean");
        known.put(
                "layer1.0.conv1.weight", "02stage1_01ResidualUnit_01branch_01ConvBn_01conv_weight");
        known.put("layer1.0.bn2.weight", "02stage1_01ResidualUnit_01branch_02ConvBn_02bn_gamma");
        known.put(
                "layer2.0.downsample.0.weight",
                "03stage2_01ResidualUnit_02shortcut_01conv_01conv_weight");
        known.put(
                "layer3.0.downsample.1.running_var",
                "04stage3_01ResidualUnit_02shortcut_02bn_runningVar");
        known.put("layer3.0.bn1.bias", "04stage3_01ResidualUnit_01branch_01ConvBn_02bn_beta");
        known.put("fc.weight", "05classifier_weight");
        known.put("fc.bias", "05classifier_bias");
        for (Map.Entry<String, String> e : known.entrySet()) {
            assertArrayEquals(params.get(e.getValue()), fromSt.get(e.getKey()), e.getKey());
            assertArrayEquals(paramShapes.get(e.getValue()), stShapes.get(e.getKey()), e.getKey());
        }
        // every exported tensor is a distinct trained parameter, bit for bit, in both formats
        List<String> unused = new ArrayList<>(params.keySet());
        for (String name : fromSt.keySet()) {
            assertArrayEquals(fromSt.get(name), fromNpz.get(name), name);
            assertArrayEquals(stShapes.get(name), npzShapes.get(name), name);
            String match = null;
            for (String p : unused) {
                if (java.util.Arrays.equals(paramShapes.get(p), stShapes.get(name))
                        && java.util.Arrays.equals(params.get(p), fromSt.get(name))) {
                    match = p;
                    break;
                }
            }
            assertNotNull(match, name + " equals no trained parameter");
            unused.remove(match);
        }
        assertTrue(unused.isEmpty(), unused.toString());

        Path djl = tmp.resolve("copy");
        assertEquals(
                0,
                Main.run(
                        "export",
                        "--model",
                        run.toString(),
                        "--format",
                        "djl",
                        "--out",
                        djl.toString()));
        assertEquals(ModelFolder.readInfo(run.resolve("model")), ModelFolder.readInfo(djl));
    }
}
