package ai.crcd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.core.FeatureOutput;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Closing consumed intermediate activations ({@link Chain}, {@link Chain#release}) changes neither
 * a network nor its numbers, and frees what it should, for every model of the zoo:
 *
 * <ul>
 *   <li>parameter names and shapes are those recorded from the networks before any network but the
 *       CIFAR ResNets released anything (main f518ee0; {@code parameter-names.txt}), so saved
 *       models and the RepDistiller-name export still match;
 *   <li>with the same parameters, all FeatureOutput arrays (evaluation and training mode), the
 *       BatchNorm running statistics after the training forward and the gradient of every parameter
 *       after backward of {@code sum(logits * w) + mean(stage2^2)} are bit-for-bit equal with
 *       release on and off;
 *   <li>after a training-mode forward, the step's manager holds with release exactly the input and
 *       the returned arrays; without it, at least one array per convolution and batch norm more.
 * </ul>
 *
 * <p>The switch {@link Chain#enabled} is read at every forward, so one network can run both ways.
 */
class ReleaseIntermediatesTest {

    static final Shape INPUT = new Shape(2, 3, 32, 32);
    private static final String NAMES_RESOURCE = "parameter-names.txt";

    static List<String> names() {
        return Models.names();
    }

    /** Parameter names and shapes as recorded before this change (see the fixture's header). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void parameterNamesAndShapesUnchanged(String name) throws IOException {
        String[] expected = recorded().get(name);
        assertNotNull(expected, name + " missing from " + NAMES_RESOURCE);
        try (NDManager m = NDManager.newBaseManager()) {
            for (boolean pre : new boolean[] {false, true}) {
                CifarNetwork net = Models.builder(name).optPreActivation(pre).build();
                net.initialize(m, DataType.FLOAT32, INPUT);
                List<String> lines = parameterLines(net);
                assertEquals(expected[0], Integer.toString(lines.size()), name + " parameters");
                assertEquals(
                        expected[1],
                        sha256(lines),
                        name
                                + ": parameter names or shapes changed, saved models would not"
                                + " load; first: "
                                + lines.get(0));
            }
        }
    }

    /** Same parameters, same inputs: every output, running statistic and gradient equal. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void sameOutputsStatisticsAndGradients(String name)
            throws IOException, MalformedModelException {
        boolean before = Chain.enabled;
        try (NDManager m = NDManager.newBaseManager()) {
            CifarNetwork kept = Models.builder(name).optPreActivation(true).build();
            kept.initialize(m, DataType.FLOAT32, INPUT);
            CifarNetwork freed = Models.builder(name).optPreActivation(true).build();
            freed.initialize(m, DataType.FLOAT32, INPUT);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            kept.saveParameters(new DataOutputStream(bytes));
            freed.loadParameters(
                    m, new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            for (Parameter p : freed.getParameters().values()) {
                if (p.requiresGradient()) {
                    p.getArray().setRequiresGradient(true); // loaded arrays come without
                }
            }
            float[] x = m.randomNormal(INPUT).toFloatArray();
            float[] w = m.randomNormal(new Shape(2, 100)).toFloatArray();

            Chain.enabled = false;
            List<float[]> keptOut = step(m, kept, x, w);
            Chain.enabled = true;
            List<float[]> freedOut = step(m, freed, x, w);

            assertEquals(keptOut.size(), freedOut.size());
            for (int i = 0; i < keptOut.size(); i++) {
                assertArrayEquals(keptOut.get(i), freedOut.get(i), name + " output " + i);
            }
            PairList<String, Parameter> a = kept.getParameters();
            PairList<String, Parameter> b = freed.getParameters();
            assertEquals(a.keys(), b.keys());
            for (int i = 0; i < a.size(); i++) {
                String what = name + " " + a.get(i).getKey();
                NDArray pa = a.get(i).getValue().getArray();
                NDArray pb = b.get(i).getValue().getArray();
                // weights unchanged by the forward; running statistics updated alike
                assertArrayEquals(pa.toFloatArray(), pb.toFloatArray(), what);
                if (a.get(i).getValue().requiresGradient()) {
                    try (NDArray ga = pa.getGradient();
                            NDArray gb = pb.getGradient()) {
                        assertTrue(ga.abs().sum().getFloat() > 0, what + ": zero gradient");
                        assertArrayEquals(ga.toFloatArray(), gb.toFloatArray(), what + " grad");
                    }
                }
            }
        } finally {
            Chain.enabled = before;
        }
    }

    /**
     * Open arrays in a fresh step manager after one training-mode forward: with release, the input
     * and the FeatureOutput arrays (logits, pooled, stem, K stages, K preacts if asked for) and
     * nothing else; without, at least one more per convolution and batch norm (their outputs).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void releaseLeavesOnlyInputAndOutputsOpen(String name) {
        boolean before = Chain.enabled;
        try (NDManager m = NDManager.newBaseManager()) {
            for (boolean pre : new boolean[] {false, true}) {
                CifarNetwork net = Models.builder(name).optPreActivation(pre).build();
                net.initialize(m, DataType.FLOAT32, INPUT);
                int outputs = 3 + net.numStages() * (pre ? 2 : 1);
                int layers = countLayers(net);

                Chain.enabled = false;
                int withoutRelease = openAfterTrainingForward(m, net, outputs);
                Chain.enabled = true;
                int withRelease = openAfterTrainingForward(m, net, outputs);

                String what = name + (pre ? " with preacts" : "");
                assertEquals(1 + outputs, withRelease, what + ": arrays open with release");
                assertTrue(
                        withoutRelease >= 1 + outputs + layers,
                        what
                                + ": "
                                + withoutRelease
                                + " arrays open without release, fewer than the "
                                + layers
                                + " conv and BN outputs");
            }
        } finally {
            Chain.enabled = before;
        }
    }

    /**
     * Rewrites the fixture from the networks as they are built now; run only on purpose, after a
     * deliberate architecture change: {@code -Dcrcd.models.recordParameterNames=true}.
     */
    @Test
    void recordParameterNames() throws IOException {
        assumeTrue(Boolean.getBoolean("crcd.models.recordParameterNames"));
        StringBuilder sb = new StringBuilder();
        sb.append("# model, parameter count, SHA-256 of the lines '<DJL parameter name> <shape>'")
                .append(" in getParameters() order,\n")
                .append("# input (2, 3, 32, 32), 100 classes; ReleaseIntermediatesTest\n");
        try (NDManager m = NDManager.newBaseManager()) {
            for (String name : Models.names()) {
                CifarNetwork net = Models.create(name);
                net.initialize(m, DataType.FLOAT32, INPUT);
                List<String> lines = parameterLines(net);
                sb.append(name)
                        .append(' ')
                        .append(lines.size())
                        .append(' ')
                        .append(sha256(lines))
                        .append('\n');
            }
        }
        Path out = Path.of("src/test/resources/ai/crcd/models", NAMES_RESOURCE);
        Files.createDirectories(out.getParent());
        Files.writeString(out, sb.toString(), StandardCharsets.UTF_8);
    }

    /**
     * Evaluation forward, then training forward and backward of {@code sum(logits * w) +
     * mean(stage2^2)}, in a step manager.
     *
     * @return the evaluation outputs, then the training outputs, as float arrays
     */
    static List<float[]> step(NDManager m, CifarNetwork net, float[] x, float[] w) {
        List<float[]> values = new ArrayList<>();
        try (NDManager sub = m.newSubManager()) {
            ParameterStore ps = new ParameterStore(sub, false);
            NDArray input = sub.create(x, INPUT); // (B, 3, 32, 32)
            for (NDArray a : net.forward(ps, new NDList(input), false)) {
                values.add(a.toFloatArray());
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = net.forward(ps, new NDList(input), true);
                for (NDArray a : out) {
                    values.add(a.toFloatArray());
                }
                FeatureOutput f = FeatureOutput.fromNDList(out);
                NDArray weights = sub.create(w, new Shape(2, 100)); // (B, C)
                NDArray stage2 = f.stages().get(1); // (B, C2, H2, W2)
                gc.backward(f.logits().mul(weights).sum().add(stage2.square().mean()));
            }
        }
        return values;
    }

    private static int openAfterTrainingForward(NDManager m, CifarNetwork net, int outputs) {
        try (NDManager sub = m.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray input = sub.randomNormal(INPUT); // (B, 3, 32, 32)
            NDList out = net.forward(new ParameterStore(sub, false), new NDList(input), true);
            assertEquals(outputs, out.size());
            return sub.getManagedArrays().size();
        }
    }

    /** Conv2d and BatchNorm blocks in the tree, each writing at least one array per forward. */
    private static int countLayers(Block block) {
        int n = block instanceof Conv2d || block instanceof BatchNorm ? 1 : 0;
        for (Block child : block.getChildren().values()) {
            n += countLayers(child);
        }
        return n;
    }

    private static List<String> parameterLines(Block net) {
        List<String> lines = new ArrayList<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            lines.add(p.getKey() + " " + p.getValue().getShape());
        }
        return lines;
    }

    private static String sha256(List<String> lines) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String line : lines) {
                md.update((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String[]> recorded() throws IOException {
        Map<String, String[]> map = new HashMap<>();
        try (InputStream in = ReleaseIntermediatesTest.class.getResourceAsStream(NAMES_RESOURCE)) {
            assertNotNull(in, NAMES_RESOURCE);
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] f = line.trim().split(" ");
                    map.put(f[0], new String[] {f[1], f[2]});
                }
            }
        }
        return map;
    }
}
