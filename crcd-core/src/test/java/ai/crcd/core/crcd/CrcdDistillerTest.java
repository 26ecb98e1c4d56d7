package ai.crcd.core.crcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.LossTerms;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CrcdDistillerTest {

    private static final int B = 3;
    private static final int DT = 5;
    private static final int DS = 4;
    private static final int C = 3;
    private static final int N = 4;

    /** Fixed teacher/student arrays of one batch (float64). */
    private static final class Fixture {
        final NDManager m;
        final NDArray tPooled;
        final NDArray tW;
        final NDArray tLogits;
        final NDArray sPooled;
        final NDArray sW;
        final NDArray labels;
        final NDArray indices;

        Fixture(NDManager m, long seed) {
            this(m, seed, DataType.FLOAT64);
        }

        Fixture(NDManager m, long seed, DataType type) {
            this.m = m;
            Engine.getInstance().setRandomSeed((int) seed);
            tPooled = m.randomNormal(new Shape(B, DT)).toType(type, false);
            tW = m.randomNormal(new Shape(C, DT)).toType(type, false);
            tLogits = tPooled.matMul(tW.transpose());
            sPooled = m.randomNormal(new Shape(B, DS)).toType(type, false);
            sW = m.randomNormal(new Shape(C, DS)).toType(type, false);
            labels = m.create(new long[] {0, 2, 1});
            indices = m.create(new long[] {0, 1, 2});
        }

        DistillBatch batch(NDArray studentPooled, ParameterStore ps) {
            NDArray sLogits = studentPooled.matMul(sW.transpose()); // (B, C)
            return DistillBatch.builder()
                    .setTeacher(FeatureOutput.of(tLogits, tPooled, null, List.of(), List.of()))
                    .setStudent(
                            FeatureOutput.of(sLogits, studentPooled, null, List.of(), List.of()))
                    .setLabels(labels)
                    .setIndices(indices)
                    .optHeadWeights(tW, sW)
                    .setParameterStore(ps)
                    .build();
        }
    }

    private static DistillSetup setup() {
        return setup(DataType.FLOAT64);
    }

    private static DistillSetup setup(DataType type) {
        return DistillSetup.builder()
                .setFeatureDims(DT, DS)
                .setNumClasses(C)
                .optDatasetSize(10)
                .optDataType(type)
                .build();
    }

    private static CrcdDistiller.Builder small() {
        // tau = 0.5 keeps every term in a range where float64 finite differences are clean
        return CrcdDistiller.builder()
                .optNegatives(N)
                .optRelationDim(6)
                .optCriticDim(3)
                .optTau(0.5);
    }

    /** Fills the buffers with one step of other student representations. */
    private static void warm(CrcdDistiller d, Fixture f, ParameterStore ps) {
        NDArray other = f.m.randomNormal(new Shape(B, DS)).toType(f.sPooled.getDataType(), false);
        DistillBatch b = f.batch(other, ps);
        d.losses(b);
        d.afterStep(b);
        assertEquals(B, d.buffer(CrcdDistiller.Element.FEATURE).size());
    }

    private static double total(LossTerms t) {
        return t.total().toType(DataType.FLOAT64, false).getDouble();
    }

    @Test
    void gradientsReachStudentRelationsAndCriticsButNotTheTeacher() {
        // float32 as in training (weights of 0-d terms must not cut the graph) and float64
        for (DataType type : List.of(DataType.FLOAT32, DataType.FLOAT64)) {
            gradientsReach(type);
        }
    }

    private void gradientsReach(DataType type) {
        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 1, type);
            CrcdDistiller d = small().build();
            d.initialize(m, setup(type));
            ParameterStore ps = new ParameterStore(m, false);
            warm(d, f, ps);
            f.tPooled.setRequiresGradient(true);
            f.tLogits.setRequiresGradient(true);
            f.tW.setRequiresGradient(true);
            f.sPooled.setRequiresGradient(true);
            f.sW.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                LossTerms terms = d.losses(f.batch(f.sPooled, ps));
                assertEquals(
                        List.of("kd", "rc_feature", "rc_gradient"),
                        List.copyOf(terms.asMap().keySet()));
                gc.backward(terms.total());
            }
            assertTrue(absSum(f.sPooled.getGradient()) > 0, "student feature");
            assertTrue(absSum(f.sW.getGradient()) > 0, "student head (gradient element)");
            int checked = 0;
            for (Pair<String, Parameter> p : d.auxiliaryBlock().getParameters()) {
                NDArray g = p.getValue().getArray().getGradient();
                assertTrue(absSum(g) > 0, "no gradient in " + p.getKey());
                checked++;
            }
            // 2 elements x (2 relation nets x 5 + 2 linear critics x 2)
            assertEquals(28, checked);
            assertTrue(
                    d.auxiliaryBlock().getParameters().keys().stream()
                            .anyMatch(k -> k.contains("teacher_relation")));
            for (NDArray t : new NDArray[] {f.tPooled, f.tLogits, f.tW}) {
                assertEquals(0.0, absSum(t.getGradient()), 0.0, "teacher got gradient");
            }
        }
    }

    private static double absSum(NDArray a) {
        return a.abs().sum().toType(DataType.FLOAT64, false).getDouble();
    }

    @Test
    void studentFeatureGradientMatchesFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 2);
            CrcdDistiller d = small().build();
            d.initialize(m, setup());
            ParameterStore ps = new ParameterStore(m, false);
            warm(d, f, ps);
            NDArray x = f.sPooled.duplicate();
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(d.losses(f.batch(x, ps)).total());
            }
            double[] auto = x.getGradient().toDoubleArray();
            double[] base = f.sPooled.toDoubleArray();
            double h = 1e-6;
            for (int k = 0; k < base.length; k++) {
                double[] plus = base.clone();
                double[] minus = base.clone();
                plus[k] += h;
                minus[k] -= h;
                double lp = total(d.losses(f.batch(m.create(plus, new Shape(B, DS)), ps)));
                double lm = total(d.losses(f.batch(m.create(minus, new Shape(B, DS)), ps)));
                double fd = (lp - lm) / (2 * h);
                assertEquals(fd, auto[k], 1e-6 * Math.max(1, Math.abs(fd)), "entry " + k);
            }
        }
    }

    @Test
    void foldedAndUnfoldedCriticGiveTheSameLoss() {
        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 3);
            CrcdDistiller folded = small().optFoldCritic(true).build();
            CrcdDistiller plain = small().optFoldCritic(false).build();
            folded.initialize(m, setup());
            plain.initialize(m, setup());
            var pf = folded.auxiliaryBlock().getParameters();
            var pp = plain.auxiliaryBlock().getParameters();
            assertEquals(pf.keys(), pp.keys());
            for (int i = 0; i < pf.size(); i++) {
                pp.valueAt(i).getArray().set(new NDIndex(":"), pf.valueAt(i).getArray());
            }
            ParameterStore ps = new ParameterStore(m, false);
            NDArray other = m.randomNormal(new Shape(B, DS)).toType(DataType.FLOAT64, false);
            for (CrcdDistiller d : List.of(folded, plain)) {
                DistillBatch b = f.batch(other, ps);
                d.losses(b);
                d.afterStep(b);
            }
            RelationContrastBlock blk =
                    ((CrcdAuxiliaryBlock) folded.auxiliaryBlock()).elements().get(0);
            assertTrue(blk.folds());
            Map<String, NDArray> a = folded.losses(f.batch(f.sPooled, ps)).asMap();
            Map<String, NDArray> b = plain.losses(f.batch(f.sPooled, ps)).asMap();
            for (String k : a.keySet()) {
                double va = a.get(k).getDouble();
                double vb = b.get(k).getDouble();
                assertEquals(va, vb, 1e-10 * Math.max(1, Math.abs(va)), k);
            }
            assertTrue(a.get("rc_feature").getDouble() > 0);
        }
    }

    @Test
    void fastPathAndAutogradGiveTheSameTermsAndGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 5);
            CrcdDistiller fast = small().build(); // fast_path on by default
            CrcdDistiller plain = small().optFastPath(false).build();
            fast.initialize(m, setup());
            plain.initialize(m, setup());
            var pf = fast.auxiliaryBlock().getParameters();
            var pp = plain.auxiliaryBlock().getParameters();
            for (int i = 0; i < pf.size(); i++) {
                pp.valueAt(i).getArray().set(new NDIndex(":"), pf.valueAt(i).getArray());
            }
            ParameterStore ps = new ParameterStore(m, false);
            NDArray other = m.randomNormal(new Shape(B, DS)).toType(DataType.FLOAT64, false);
            for (CrcdDistiller d : List.of(fast, plain)) { // the same negatives in both buffers
                DistillBatch b = f.batch(other, ps);
                d.losses(b);
                d.afterStep(b);
            }
            double[][] got = new double[2][];
            List<Map<String, Double>> terms = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                CrcdDistiller d = k == 0 ? fast : plain;
                NDArray x = f.sPooled.duplicate();
                x.setRequiresGradient(true);
                Map<String, Double> values = new LinkedHashMap<>();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    LossTerms t = d.losses(f.batch(x, ps));
                    t.asMap().forEach((name, v) -> values.put(name, v.getDouble()));
                    gc.backward(t.total());
                }
                terms.add(values);
                List<Double> grads = new ArrayList<>();
                for (double g : x.getGradient().toDoubleArray()) {
                    grads.add(g);
                }
                var params = d.auxiliaryBlock().getParameters();
                for (int i = 0; i < params.size(); i++) {
                    try (NDArray g = params.valueAt(i).getArray().getGradient()) {
                        for (double v : g.toDoubleArray()) {
                            grads.add(v);
                        }
                        g.subi(g);
                    }
                }
                got[k] = grads.stream().mapToDouble(Double::doubleValue).toArray();
            }
            assertEquals(terms.get(1).keySet(), terms.get(0).keySet());
            for (String k : terms.get(0).keySet()) {
                double want = terms.get(1).get(k);
                assertEquals(want, terms.get(0).get(k), 1e-10 * Math.max(1, Math.abs(want)), k);
            }
            assertEquals(got[1].length, got[0].length);
            double scale = 0;
            for (double v : got[1]) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertTrue(scale > 0);
            for (int i = 0; i < got[0].length; i++) {
                assertEquals(got[1][i], got[0][i], 1e-10 * scale, "gradient entry " + i);
            }
        }
    }

    @Test
    void variantsOptionsAndErrors() {
        assertTrue(
                Distillers.registry().keySet().containsAll(List.of("crcd", "frcd", "grcd", "kd")));
        Distiller frcd =
                Distillers.create(
                        "frcd",
                        new DistillerOptions(
                                "distill.options", Map.of("negatives", 7, "critic", "mlp")));
        assertEquals("frcd", frcd.name());
        assertEquals(
                List.of(CrcdDistiller.Element.GRADIENT),
                ((CrcdDistiller) Distillers.create("grcd", DistillerOptions.empty())).elements());
        var unknown =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "crcd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("temperature", 0.1))));
        assertTrue(unknown.getMessage().contains("temperature"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("tau"), unknown.getMessage());
        var noBetaG =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "frcd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("beta_gradient", 0.5))));
        assertTrue(noBetaG.getMessage().contains("beta_gradient"));
        var badLoss =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Distillers.create(
                                        "crcd",
                                        new DistillerOptions(
                                                "distill.options", Map.of("loss", "infonce"))));
        assertTrue(badLoss.getMessage().contains("nce"), badLoss.getMessage());

        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 4);
            ParameterStore ps = new ParameterStore(m, false);
            // frcd: no head weights needed; its terms
            CrcdDistiller fr = small().optElements(CrcdDistiller.Element.FEATURE).build();
            fr.initialize(m, setup());
            DistillBatch noHeads =
                    DistillBatch.builder()
                            .setTeacher(
                                    FeatureOutput.of(
                                            f.tLogits, f.tPooled, null, List.of(), List.of()))
                            .setStudent(
                                    FeatureOutput.of(
                                            f.sPooled.matMul(f.sW.transpose()),
                                            f.sPooled,
                                            null,
                                            List.of(),
                                            List.of()))
                            .setLabels(f.labels)
                            .setIndices(f.indices)
                            .setParameterStore(ps)
                            .build();
            assertEquals(
                    List.of("kd", "rc_feature"), List.copyOf(fr.losses(noHeads).asMap().keySet()));
            CrcdDistiller gr = small().optElements(CrcdDistiller.Element.GRADIENT).build();
            gr.initialize(m, setup());
            var e = assertThrows(IllegalArgumentException.class, () -> gr.losses(noHeads));
            assertTrue(e.getMessage().contains("optHeadWeights"), e.getMessage());
            // alpha = 0 drops the KD term; every loss type and the random buffer run
            for (RelationContrastiveLoss.Type t : RelationContrastiveLoss.Type.values()) {
                CrcdDistiller d =
                        small().optAlpha(0)
                                .optLoss(t)
                                .optBuffer(RepresentationQueue.Policy.RANDOM)
                                .build();
                d.initialize(m, setup());
                warm(d, f, ps);
                LossTerms terms = d.losses(f.batch(f.sPooled, ps));
                assertEquals(
                        List.of("rc_feature", "rc_gradient"), List.copyOf(terms.asMap().keySet()));
                assertTrue(Double.isFinite(total(terms)), t.toString());
            }
        }
    }

    @Test
    void stateRestoresBuffers() {
        try (NDManager m = NDManager.newBaseManager()) {
            Fixture f = new Fixture(m, 5);
            ParameterStore ps = new ParameterStore(m, false);
            CrcdDistiller d = small().build();
            d.initialize(m, setup());
            warm(d, f, ps);
            NDList st = d.state();
            assertEquals(4, st.size());
            assertEquals("feature_buffer", st.get(0).getName());
            CrcdDistiller r = small().build();
            r.initialize(m, setup());
            r.loadState(st);
            for (CrcdDistiller.Element el : CrcdDistiller.Element.values()) {
                NDArray a = d.buffer(el).entries(m);
                NDArray b = r.buffer(el).entries(m);
                assertEquals(a.getShape(), b.getShape());
                assertTrue(a.contentEquals(b));
            }
            var e = assertThrows(IllegalArgumentException.class, () -> r.loadState(new NDList()));
            assertNotNull(e.getMessage());
        }
    }
}
