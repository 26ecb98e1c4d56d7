package ai.crcd.core.zoo;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.FeatureOutput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Test helpers of the AB/FSP/FT tests: seeded maps, layouts, batches in float64. */
final class ZooFixtures {

    private ZooFixtures() {}

    static Distiller create(String name, Map<String, Object> options) {
        return Distillers.create(name, new DistillerOptions("distill.options", options));
    }

    /** Seeded values in [-2, 2), kept at least 0.05 away from +-1 and 0 (AB's boundaries). */
    static double[] values(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x;
            do {
                x = r.nextDouble() * 4 - 2;
            } while (Math.abs(Math.abs(x) - 1) < 0.05 || Math.abs(x) < 0.05);
            v[i] = x;
        }
        return v;
    }

    static int size(Shape s) {
        return (int) s.size();
    }

    /** The FeatureOutput layout's shapes (batch 1) for a stem and stages, with preacts. */
    static List<Shape> layout(Shape stem, List<Shape> stages, boolean preAct) {
        List<Shape> l = new ArrayList<>();
        l.add(new Shape(1, 4));
        l.add(new Shape(1, 3));
        l.add(one(stem));
        stages.forEach(s -> l.add(one(s)));
        if (preAct) {
            stages.forEach(s -> l.add(one(s)));
        }
        return l;
    }

    private static Shape one(Shape s) {
        return new Shape(1, s.get(1), s.get(2), s.get(3));
    }

    static DistillSetup setup(List<Shape> teacher, List<Shape> student) {
        return DistillSetup.builder()
                .setFeatureDims(3, 3)
                .setNumClasses(4)
                .optOutputShapes(teacher, student)
                .optDataType(DataType.FLOAT64)
                .build();
    }

    static FeatureOutput output(
            NDManager m, NDArray stem, List<NDArray> stages, List<NDArray> preActs) {
        long b = stages.get(0).getShape().get(0);
        NDArray logits = m.create(values(99, (int) b * 4), new Shape(b, 4));
        return FeatureOutput.of(logits, m.zeros(new Shape(b, 3)), stem, stages, preActs);
    }

    static DistillBatch batch(NDManager m, FeatureOutput teacher, FeatureOutput student) {
        return ZooFixture.batch(m, teacher, student);
    }
}
