package ai.crcd.train.imports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.models.CifarNetwork;
import ai.crcd.models.Models;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Networks made and run by PyTorch 1.13 (make_fixtures.py, RepDistiller's definitions), imported
 * from both file formats: crcd's network gives PyTorch's eval-mode logits and top-1.
 */
class TorchImportTest {

    @TempDir Path tmp;

    static Stream<Arguments> fixtures() {
        // model, classes, what the fixture exercises besides the architecture
        Object[][] f = {
            {"resnet8", 5}, // {'model': sd}
            {"wrn_16_1", 5}, // {'state_dict': sd}; crcd's nextBn placement
            {"vgg8", 3}, // float16 tensors
            {"MobileNetV2", 5}, // a non-contiguous (transposed view) classifier weight
            {"ShuffleV1", 4}, // {'net': sd}; classifier weight at storage offset 3
            {"ShuffleV2", 4} // float16
        };
        Stream.Builder<Arguments> s = Stream.builder();
        for (Object[] m : f) {
            s.add(Arguments.of(m[0], m[1], ".pth", 32));
            s.add(Arguments.of(m[0], m[1], ".legacy.pth", 32));
        }
        // torchvision's layout (crcd-models' ImageNet resnet18), float16, 64x64, zip format only
        s.add(Arguments.of("resnet18", 5, ".pth", 64));
        return s.build();
    }

    @ParameterizedTest(name = "{0}{2}")
    @MethodSource("fixtures")
    void importedNetworkGivesPyTorchLogits(String model, int classes, String format, int size)
            throws IOException {
        assumeTrue(Models.names().contains(model), model + " is not in crcd-models (yet)");
        Path file = TorchFixtures.copy(model + format, tmp);
        Map<String, TorchTensor> io =
                TorchCheckpoint.readStateDict(TorchFixtures.copy(model + ".io.pt", tmp));
        TorchTensor input = io.get("input"); // (4, 3, size, size)
        TorchTensor expected = io.get("logits"); // (4, classes)
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create(model, classes, 3);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, size, size));
            TorchImport.load(net, model, file, m);
            NDArray x = m.create(input.toFloatArray(), new Shape(input.shape()));
            NDArray logits = net.forward(new ParameterStore(m, false), new NDList(x), false).head();
            float[] got = logits.toFloatArray();
            float[] want = expected.toFloatArray();
            assertArrayEquals(expected.shape(), logits.getShape().getShape());
            float maxAbs = 0;
            for (float w : want) {
                maxAbs = Math.max(maxAbs, Math.abs(w));
            }
            assertTrue(maxAbs > 1e-2, "logits of the fixture are not degenerate: " + maxAbs);
            for (int i = 0; i < want.length; i++) {
                assertEquals(
                        want[i], got[i], 1e-4 + 1e-4 * Math.abs(want[i]), model + " logit " + i);
            }
            long[] top1 = logits.argMax(1).toLongArray();
            for (int b = 0; b < top1.length; b++) {
                assertEquals(argMax(want, b, classes), top1[b], model + " top-1 of image " + b);
            }
        }
    }

    private static int argMax(float[] v, int row, int cols) {
        int best = 0;
        for (int c = 1; c < cols; c++) {
            if (v[row * cols + c] > v[row * cols + best]) {
                best = c;
            }
        }
        return best;
    }

    @Test
    void nameMapsCoverAllRepDistillerModelsWithTheirShapes() throws IOException {
        Map<String, Map<String, String>> torch = keys("repdistiller_keys.txt", 100);
        assertEquals(22, torch.size(), "all 22 models in the key list");
        for (String model : torch.keySet()) {
            assertTrue(Models.names().contains(model), model);
        }
    }

    @Test
    void torchvisionNameMapsMatchTorchvisionKeys() throws IOException {
        assumeTrue(Models.names().contains("resnet18"), "crcd-models has no resnet18 (yet)");
        assertEquals(2, keys("torchvision_keys.txt", 1000).size());
    }

    /** Checks the name maps against a key list of make_fixtures.py; returns the list. */
    private static Map<String, Map<String, String>> keys(String list, int classes)
            throws IOException {
        Map<String, Map<String, String>> torch = new LinkedHashMap<>(); // model -> key -> shape
        for (String line :
                new String(
                                TorchImportTest.class
                                        .getResourceAsStream("/torch-fixtures/" + list)
                                        .readAllBytes(),
                                StandardCharsets.UTF_8)
                        .split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] p = line.split(" ");
            if (!p[1].endsWith("num_batches_tracked")) {
                torch.computeIfAbsent(p[0], k -> new LinkedHashMap<>()).put(p[1], p[2]);
            }
        }
        for (String model : torch.keySet()) {
            Map<String, String> want = torch.get(model);
            try (NDManager m = NDManager.newBaseManager()) {
                CifarNetwork net = Models.create(model, classes, 3);
                net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
                Map<String, String> got = new LinkedHashMap<>();
                Map<String, String> names =
                        NameMaps.map(model, new java.util.ArrayList<>(net.getParameters().keys()));
                for (var p : net.getParameters()) {
                    String shape = p.getValue().getArray().getShape().toString();
                    got.put(
                            names.get(p.getKey()),
                            shape.substring(1, shape.length() - 1).replace(" ", ""));
                }
                assertEquals(net.getParameters().size(), got.size(), model + ": one to one");
                assertEquals(new java.util.TreeMap<>(want), new java.util.TreeMap<>(got), model);
            }
        }
        return torch;
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Map<String, TorchTensor> sd = resnet8();
        sd.remove("layer2.0.downsample.1.running_var");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> load(sd, 5));
        assertEquals(
                "f.pth: missing tensor 'layer2.0.downsample.1.running_var' (crcd parameter"
                        + " 03stage2_01ResidualUnit_02shortcut_02bn_runningVar); is this a checkpoint"
                        + " of a RepDistiller resnet8?",
                e.getMessage());
    }

    @Test
    void unexpectedTensorIsNamed() throws IOException {
        Map<String, TorchTensor> sd = resnet8();
        sd.put("layer4.0.conv1.weight", sd.get("layer3.0.conv2.weight"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> load(sd, 5));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "f.pth: unexpected tensor 'layer4.0.conv1.weight' (64, 64, 3, 3),"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void wrongShapeIsNamed() throws IOException {
        Map<String, TorchTensor> sd = resnet8();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> load(sd, 7));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "f.pth: tensor 'fc.weight' has shape (5, 64), crcd's resnet8"
                                        + " expects (7, 64)"),
                e.getMessage());
    }

    @Test
    void batchStatisticsAndWrapperAreRead() throws IOException {
        Map<String, TorchTensor> sd = resnet8(); // the file is {'model': sd, 'epoch': 240, ...}
        assertEquals( // file order (an OrderedDict)
                java.util.List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean"),
                new java.util.ArrayList<>(sd.keySet()).subList(0, 4));
        TorchTensor tracked = sd.get("bn1.num_batches_tracked");
        assertEquals("int64", tracked.dtype());
        assertEquals(0, tracked.shape().length);
        assertEquals(0L, tracked.toLongArray()[0]);
        TorchTensor var = sd.get("bn1.running_var");
        for (float v : var.toFloatArray()) { // make_fixtures.py: k / 4 for k in 2..8
            assertTrue(v >= 0.5f && v <= 2f && v * 4 == Math.rint(v * 4), "running_var " + v);
        }
    }

    @Test
    void legacyAndZipHoldTheSameTensors() throws IOException {
        Map<String, TorchTensor> zip =
                TorchCheckpoint.readStateDict(TorchFixtures.copy("MobileNetV2.pth", tmp));
        Map<String, TorchTensor> legacy =
                TorchCheckpoint.readStateDict(TorchFixtures.copy("MobileNetV2.legacy.pth", tmp));
        assertEquals(zip.keySet(), legacy.keySet());
        for (String k : zip.keySet()) {
            assertArrayEquals(zip.get(k).shape(), legacy.get(k).shape(), k);
            if (zip.get(k).isFloating()) {
                assertArrayEquals(zip.get(k).toFloatArray(), legacy.get(k).toFloatArray(), k);
            }
        }
    }

    @Test
    void halfPrecisionDecodes() {
        assertEquals(1f, TorchCheckpoint.halfToFloat((short) 0x3c00));
        assertEquals(-2f, TorchCheckpoint.halfToFloat((short) 0xc000));
        assertEquals(65504f, TorchCheckpoint.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TorchCheckpoint.halfToFloat((short) 0x0001));
        assertEquals(0.333251953125f, TorchCheckpoint.halfToFloat((short) 0x3555));
        assertEquals(Float.NEGATIVE_INFINITY, TorchCheckpoint.halfToFloat((short) 0xfc00));
        assertTrue(Float.isNaN(TorchCheckpoint.halfToFloat((short) 0x7e00)));
    }

    @Test
    void notACheckpointIsOneLine() throws IOException {
        Path f = tmp.resolve("model.pth");
        Files.writeString(f, "hello, not a checkpoint");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> TorchCheckpoint.readStateDict(f));
        assertTrue(e.getMessage().startsWith(f + ": not a PyTorch checkpoint"), e.getMessage());
        Path io = TorchFixtures.copy("resnet8.pth", tmp);
        byte[] all = Files.readAllBytes(io);
        Path cut = tmp.resolve("cut.legacy.pth");
        Files.write(
                cut,
                java.util.Arrays.copyOf(
                        Files.readAllBytes(TorchFixtures.copy("resnet8.legacy.pth", tmp)),
                        all.length / 2));
        e = assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.readStateDict(cut));
        assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
    }

    @Test
    void wholePickledModuleGivesItsTensors() throws IOException {
        // torch.save(nn.Linear(2, 2)): no state_dict, but the module's _parameters
        Map<String, TorchTensor> sd =
                TorchCheckpoint.readStateDict(TorchFixtures.copy("whole_module.pth", tmp));
        assertEquals(java.util.List.of("weight", "bias"), new java.util.ArrayList<>(sd.keySet()));
        assertArrayEquals(new long[] {2, 2}, sd.get("weight").shape());
        assertArrayEquals(new long[] {2}, sd.get("bias").shape());
    }

    private Map<String, TorchTensor> resnet8() throws IOException {
        return new LinkedHashMap<>(
                TorchCheckpoint.readStateDict(TorchFixtures.copy("resnet8.pth", tmp)));
    }

    private static void load(Map<String, TorchTensor> sd, int classes) {
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork net = Models.create("resnet8", classes, 3);
            net.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            TorchImport.load(net, "resnet8", sd, "f.pth", m);
        }
    }
}
