package ai.crcd.bench;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.crcd.CrcdDistiller;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times forward + backward of the CRCD loss alone (no networks): the distiller's terms ({@code kd},
 * {@code rc_feature}, {@code rc_gradient}) for B = 64, N = 500, teacher and student dim 64,
 * relation 256, critic 128, 100 classes, in three paths: the critic folded into the relation output
 * map with RC's negatives side fused and differentiated by hand ({@code fast_path}, the default),
 * folded with autograd over the whole negatives side, and not folded; for CRCD and the feature-only
 * variant (FRCD). The configurations run interleaved, their order reversed every iteration (an
 * in-process A/B). Prints the median milliseconds and the median of the per-iteration ratio to the
 * folded autograd path, and writes a CSV.
 *
 * <p>Usage: {@code CrcdLossBench [csv path (default target/bench/crcd-loss.csv)] [iterations
 * (default 50)] [warm-up (default 10)]}.
 */
public final class CrcdLossBench {

    private static final int B = 64;
    private static final int N = 500;
    private static final int DT = 64;
    private static final int DS = 64;
    private static final int CLASSES = 100;
    private static final int RELATION = 256;
    private static final int CRITIC = 128;

    private CrcdLossBench() {}

    /**
     * Runs the benchmark.
     *
     * @param args [csv path] [iterations] [warm-up]
     * @throws IOException if the CSV cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path csv = Paths.get(args.length > 0 ? args[0] : "target/bench/crcd-loss.csv");
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        List<String> rows = new ArrayList<>();
        rows.add(
                "variant,fold_critic,fast_path,batch,negatives,teacher_dim,student_dim,"
                        + "relation_dim,critic_dim,iterations,median_ms,p10_ms,p90_ms,"
                        + "ratio_to_autograd_median,engine_threads");
        String threads = System.getProperty("ai.djl.pytorch.num_threads", "default");
        Engine.getInstance().setRandomSeed(42);
        List<String> variants = List.of("crcd", "frcd");
        // {fold, fast}: fused (default), folded autograd, unfolded
        List<boolean[]> paths =
                List.of(
                        new boolean[] {true, true},
                        new boolean[] {true, false},
                        new boolean[] {false, false});
        double[][] all = run(variants, paths, iterations, warmUp);
        int c = 0;
        for (int v = 0; v < variants.size(); v++) {
            String variant = variants.get(v);
            double[] autograd = all[v * paths.size() + 1];
            for (boolean[] path : paths) {
                double[] times = all[c++];
                double[] sorted = times.clone();
                Arrays.sort(sorted);
                double median = sorted[sorted.length / 2];
                double p10 = sorted[(int) (0.1 * (sorted.length - 1))];
                double p90 = sorted[(int) Math.ceil(0.9 * (sorted.length - 1))];
                double[] ratio = new double[times.length];
                for (int i = 0; i < times.length; i++) {
                    ratio[i] = times[i] / autograd[i];
                }
                Arrays.sort(ratio);
                double ratioMedian = ratio[ratio.length / 2];
                System.out.printf(
                        Locale.ROOT,
                        "%s fold_critic=%s fast_path=%s: median %.2f ms (p10 %.2f, p90 %.2f),"
                                + " ratio to folded autograd %.3f (p10 %.3f, p90 %.3f) over %d"
                                + " iterations%n",
                        variant,
                        path[0],
                        path[1],
                        median,
                        p10,
                        p90,
                        ratioMedian,
                        ratio[(int) (0.1 * (ratio.length - 1))],
                        ratio[(int) Math.ceil(0.9 * (ratio.length - 1))],
                        iterations);
                rows.add(
                        String.format(
                                Locale.ROOT,
                                "%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.4f,%s",
                                variant,
                                path[0],
                                path[1],
                                B,
                                N,
                                DT,
                                DS,
                                RELATION,
                                CRITIC,
                                iterations,
                                median,
                                p10,
                                p90,
                                ratioMedian,
                                threads));
            }
        }
        if (csv.getParent() != null) {
            Files.createDirectories(csv.getParent());
        }
        try (PrintWriter w =
                new PrintWriter(Files.newBufferedWriter(csv, StandardCharsets.UTF_8))) {
            rows.forEach(w::println);
        }
        System.out.println("wrote " + csv.toAbsolutePath());
    }

    /**
     * Runs every configuration, interleaved step by step so that a varying machine load affects all
     * of them alike.
     */
    private static double[][] run(
            List<String> variants, List<boolean[]> paths, int iterations, int warmUp) {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<CrcdDistiller> configs = new ArrayList<>();
            for (String variant : variants) {
                for (boolean[] path : paths) {
                    CrcdDistiller.Builder b =
                            CrcdDistiller.builder()
                                    .optNegatives(N)
                                    .optRelationDim(RELATION)
                                    .optCriticDim(CRITIC)
                                    .optFoldCritic(path[0])
                                    .optFastPath(path[1]);
                    if ("frcd".equals(variant)) {
                        b.optElements(CrcdDistiller.Element.FEATURE);
                    }
                    CrcdDistiller crcd = b.build();
                    crcd.initialize(
                            manager,
                            DistillSetup.builder()
                                    .setFeatureDims(DT, DS)
                                    .setNumClasses(CLASSES)
                                    .build());
                    configs.add(crcd);
                }
            }
            ParameterStore ps = new ParameterStore(manager, false);
            NDArray tW = manager.randomNormal(new Shape(CLASSES, DT));
            NDArray sW = manager.randomNormal(new Shape(CLASSES, DS));
            sW.setRequiresGradient(true);
            double[][] ms = new double[configs.size()][iterations];
            for (int it = -warmUp - N / B - 1; it < iterations; it++) { // first fill the queues
                for (int k = 0; k < configs.size(); k++) {
                    int c = (it & 1) == 0 ? k : configs.size() - 1 - k; // order reversed
                    double t = step(configs.get(c), manager, ps, tW, sW);
                    if (it >= 0) {
                        ms[c][it] = t;
                    }
                }
            }
            configs.forEach(CrcdDistiller::close);
            return ms;
        }
    }

    /** One forward + backward of the distiller's terms; returns milliseconds. */
    private static double step(
            CrcdDistiller crcd, NDManager manager, ParameterStore ps, NDArray tW, NDArray sW) {
        try (NDManager step = manager.newSubManager()) {
            NDArray tPooled = step.randomNormal(new Shape(B, DT)).abs(); // (B, Dt)
            NDArray sPooled = step.randomNormal(new Shape(B, DS)).abs(); // (B, Ds)
            sPooled.setRequiresGradient(true);
            NDArray labels = step.randomInteger(0, CLASSES, new Shape(B), DataType.INT64);
            long start = System.nanoTime();
            DistillBatch batch;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray tLogits = tPooled.matMul(tW.transpose()); // (B, C)
                NDArray sLogits = sPooled.matMul(sW.transpose()); // (B, C)
                batch =
                        DistillBatch.builder()
                                .setTeacher(
                                        FeatureOutput.of(
                                                tLogits, tPooled, null, List.of(), List.of()))
                                .setStudent(
                                        FeatureOutput.of(
                                                sLogits, sPooled, null, List.of(), List.of()))
                                .setLabels(labels)
                                .setIndices(labels)
                                .optHeadWeights(tW, sW)
                                .setParameterStore(ps)
                                .build();
                NDArray loss = crcd.losses(batch).total();
                gc.backward(loss);
                loss.getFloat(); // synchronise
            }
            long end = System.nanoTime();
            crcd.afterStep(batch);
            return (end - start) / 1e6;
        }
    }
}
