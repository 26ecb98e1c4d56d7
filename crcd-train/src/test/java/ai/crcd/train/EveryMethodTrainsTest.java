package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.InitStage;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.loop.RunContext;
import ai.crcd.train.loop.RunListener;
import ai.crcd.train.loop.StepLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one short training run of every registered method ({@link Distillers#registry()}, so a method
 * added by anyone is covered without editing this test), with the method's default options, through
 * crcd-train's normal loop ({@link TrainingRun}) (plus the few {@link #TEST_OPTIONS} that this
 * short run needs, each with its reason): a resnet8 student distilled from a resnet8 teacher
 * trained once for two epochs on a Fashion-MNIST subset, {@value #STEPS} steps of batch {@value
 * #BATCH} in one epoch (so epoch schedules such as DKD's warm-up stay constant).
 *
 * <p>Asserts, comparing the means of the first and last {@value #WINDOW} steps (single steps are
 * noisy): every step is finite; the total loss and the cross-entropy fall by at least {@value
 * #MIN_DROP} of their first window; and the method's own terms taken together (the total minus the
 * cross-entropy) fall (CRD's NCE term falls slowly: about 4% in this run). A method without terms
 * of its own (vanilla) or whose terms are all zero in the main stage (a weight of 0 by default)
 * must keep them at exactly zero instead.
 */
class EveryMethodTrainsTest {

    static final int BATCH = 25;
    static final int PER_CLASS = 120; // 1,200 images = 48 steps
    static final int STEPS = PER_CLASS * 10 / BATCH;
    static final int WINDOW = 12;
    static final double MIN_DROP = 0.05;

    /**
     * Methods whose run is known to diverge here (an open defect, reported; the test asserts the
     * divergence, so it fails, and the entry must be removed, once the method is fixed).
     */
    static final Map<String, String> KNOWN_DIVERGING = Map.of();

    /**
     * Options a method needs in this short run besides its defaults, with the reason. ft: the
     * reference itself diverges here at RepDistiller's {@code init_lr} 0.01: this briefly trained
     * teacher's last stage is loud (mean square 8.6, max 22) and the paraphraser's six
     * normalisation-free convolutions then blow up under SGD (PyTorch, started from crcd's weights
     * on the teacher features of this run, goes 8.2 -> 6.6e10 at step 24 exactly as crcd does; from
     * 5 of 6 fresh PyTorch inits it diverges too; at 0.003 all fall), see {@link
     * FtInitStageReferenceTest} and docs/zoo/ft.md.
     *
     * <p>crcd/frcd/grcd: a queue of 75 negatives instead of 500. With 500 the queue fills in 20 of
     * the 48 steps, so the RC terms grow with the number of negatives over the first window
     * whatever the learning does, and whether the total falls came down to the seed (frcd, seeds
     * 3-5, default and channels-last memory order: 3 of 6 runs fell); 75 fill in 3 steps. With 75
     * alone, seed 3 passes in both orders, but grcd at seed 4 and frcd at seed 5 (default order)
     * rise over 48 steps (to about 26 from 23): the RC term climbs to a plateau within 20 steps and
     * stays there (grcd, seed 4: 10.2 at step 1, 19.7-19.9 from step 20 on) while CE and KD fall.
     * These short runs at lr 0.05 depend on the trajectory, which another CPU's kernels change, so
     * the relation methods run at lr 0.02 ({@link #TEST_LR}): frcd, grcd and crcd then fell in all
     * 36 runs of seeds 3-8 in both memory orders (e.g. 19.9 -> 11.8). {@code -Dzoo.seed=N} reruns
     * with another seed.
     */
    static final Map<String, String> TEST_OPTIONS =
            Map.of(
                    "ft", "init_lr: 0.003",
                    "crcd", "negatives: 75",
                    "frcd", "negatives: 75",
                    "grcd", "negatives: 75");

    /** Learning rates other than the run's 0.05, per method (see {@link #TEST_OPTIONS}). */
    static final Map<String, String> TEST_LR =
            Map.of("crcd", "0.02", "frcd", "0.02", "grcd", "0.02");

    @TempDir static Path tmp;
    private static Path teacher;

    @BeforeAll
    static void trainTeacher() {
        assumeTrue(
                Files.isRegularFile(
                        DataSets.FASHION_MNIST_DIR.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed in " + DataSets.FASHION_MNIST_DIR);
        Path dir = tmp.resolve("teacher");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nseed: 7\ndevice: cpu\n"
                                + "data: {name: fashion-mnist, subset_per_class: 60,"
                                + " test_subset_per_class: 5, batch_size: 25, augment: false}\n"
                                + "model: {name: resnet8}\n"
                                + "optim: {lr: 0.05, epochs: 2, milestones: []}\n"
                                + "output: {dir: "
                                + dir
                                + ", log_interval: 1000}\n",
                        List.of());
        List<Integer> epochs = new ArrayList<>();
        TrainingRun.builder(cfg, dir)
                .addListener(
                        new RunListener() {
                            @Override
                            public void onStep(
                                    RunContext run, int epoch, int step, int images, long ns) {
                                // the loop gives the step (and so every batch) the 1-based epoch
                                assertEquals(epoch + 1, run.step().epoch());
                                epochs.add(run.step().epoch());
                            }
                        })
                .build()
                .run();
        assertEquals(2, epochs.get(epochs.size() - 1));
        teacher = dir.resolve(TrainingRun.MODEL_FILE);
    }

    /** Every registered method, or those of {@code -Dzoo.methods=a,b} (for a quick local rerun). */
    static List<String> methods() {
        List<String> all = new ArrayList<>(Distillers.registry().keySet());
        String only = System.getProperty("zoo.methods", "");
        if (!only.isBlank()) {
            all.retainAll(List.of(only.split(",")));
        }
        return all;
    }

    /**
     * Whether the method takes {@code init_epochs} (it has an init stage, #14): its factory accepts
     * the key.
     */
    private static boolean hasInitStage(String method) {
        try (Distiller d =
                Distillers.create(
                        method, new DistillerOptions("t", Map.of(InitStage.EPOCHS_OPTION, 1)))) {
            return d != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methods")
    void lossFalls(String method) {
        Path dir = tmp.resolve(method);
        // a method with an init stage gets one init epoch instead of RepDistiller's 30 (cheap)
        boolean init = hasInitStage(method);
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: distill\nseed: "
                                + Integer.getInteger("zoo.seed", 3)
                                + "\ndevice: cpu\n"
                                + "data: {name: fashion-mnist, subset_per_class: "
                                + PER_CLASS
                                + ", test_subset_per_class: 5, batch_size: "
                                + BATCH
                                + ", augment: false}\n"
                                + "model: {name: resnet8}\n"
                                + "teacher: {name: resnet8, checkpoint: "
                                + teacher
                                + "}\n"
                                + "optim: {lr: "
                                + TEST_LR.getOrDefault(method, "0.05")
                                + ", epochs: 1, milestones: []}\n"
                                + "distill: {method: "
                                + method
                                + options(method, init)
                                + "}\n"
                                + "output: {dir: "
                                + dir
                                + ", log_interval: 1}\n",
                        List.of());
        List<String> names = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        List<Double> initTotals = new ArrayList<>();
        TrainingRun run =
                TrainingRun.builder(cfg, dir)
                        .addListener(
                                new RunListener() {
                                    @Override
                                    public void onStepsSynced(RunContext run, StepLog log) {
                                        if (run.step().inInitStage()) {
                                            for (int s = 0; s < log.rows().size(); s++) {
                                                initTotals.add(log.total(log.terms(s)));
                                            }
                                            return;
                                        }
                                        if (names.isEmpty()) {
                                            names.addAll(log.termNames());
                                        }
                                        for (int s = 0; s < log.rows().size(); s++) {
                                            rows.add(log.terms(s));
                                        }
                                    }
                                })
                        .build();
        String known = KNOWN_DIVERGING.get(method);
        if (known != null) {
            // an open defect, asserted so that this entry must go when it is fixed
            TrainingException e = assertThrows(TrainingException.class, run::run, known);
            assertTrue(e.getMessage().contains("diverged"), e.getMessage());
            System.out.println(method + ": still diverges (known): " + known);
            return;
        }
        run.run();
        assertEquals(STEPS, rows.size(), method + ": every step applied");
        if (init) {
            // the init stage's objective falls too
            assertEquals(STEPS, initTotals.size(), method + ": every init step applied");
            assertFalls(
                    initTotals.stream().mapToDouble(Double::doubleValue).toArray(),
                    method + " init stage: first/last " + WINDOW + "-step means of the total",
                    0);
        }
        assertEquals("ce", names.get(0));
        double[] total = new double[rows.size()];
        double[] ce = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            float[] r = rows.get(i);
            for (float v : r) {
                assertTrue(Float.isFinite(v), method + ": finite terms " + names);
                total[i] += v;
            }
            ce[i] = r[0];
        }
        double[] own = new double[rows.size()];
        for (int i = 0; i < own.length; i++) {
            own[i] = total[i] - ce[i];
        }
        String msg = method + " " + names + ": first/last " + WINDOW + "-step means of ";
        assertFalls(total, msg + "the total");
        assertFalls(ce, msg + "ce");
        if (names.size() == 1 || mean(own, 0, WINDOW) == 0) {
            for (float[] r : rows) {
                for (int t = 1; t < r.length; t++) {
                    assertEquals(0f, r[t], msg + names.get(t) + " stays zero");
                }
            }
        } else {
            assertFalls(own, msg + "the method's own terms", 0);
        }
    }

    /**
     * The method's options in this run: one init epoch (if it has an init stage) and {@link
     * #TEST_OPTIONS}.
     */
    private static String options(String method, boolean init) {
        List<String> o = new ArrayList<>();
        if (init) {
            o.add(InitStage.EPOCHS_OPTION + ": 1");
        }
        if (TEST_OPTIONS.containsKey(method)) {
            o.add(TEST_OPTIONS.get(method));
        }
        return o.isEmpty() ? "" : ", options: {" + String.join(", ", o) + "}";
    }

    private static void assertFalls(double[] v, String what) {
        assertFalls(v, what, MIN_DROP);
    }

    private static void assertFalls(double[] v, String what, double drop) {
        double first = mean(v, 0, WINDOW);
        double last = mean(v, v.length - WINDOW, v.length);
        System.out.printf("%s: %.5g -> %.5g%n", what, first, last);
        assertTrue(
                last < first * (1 - drop),
                what + ": " + first + " -> " + last + " (must fall by " + drop + ")");
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }
}
