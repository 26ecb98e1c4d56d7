package ai.crcd.bench.configs;

import ai.crcd.core.Distillers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Writes the run configs of the method comparison from one table ({@link #METHODS}): {@code
 * configs/cifar100/<folder>/<teacher>_<student>.yaml} for the seven Table 5 pairs and the six
 * cross-architecture pairs, the CIFAR-100 teacher and vanilla-student configs, {@code
 * configs/fashion-mnist/<folder>/resnet20_resnet8.yaml} with its teachers and vanilla students, and
 * the bench suites {@code configs/bench/cifar100-table5.yaml}, {@code cifar100-cross-arch.yaml} and
 * {@code fashion-mnist-zoo.yaml}. See docs/zoo.md ("Configs").
 *
 * <p>A comparison method alone and "+KD" are two folders: {@code <method>} ({@code alpha: 0.0}, as
 * RepDistiller's {@code -a 0}) and {@code <method>_kd} ({@code alpha: 1.0}, {@code -a 1}, the
 * paper's Table 5 row: "we combine all distillation methods with conventional KD"). {@code crd}
 * keeps its folder for CRD+KD (the CRD/CRCD tables' row).
 *
 * <p>Usage: {@code scripts/bench.sh configs [--all] [--check] [--root configs]}. Without {@code
 * --all} only methods registered in {@link Distillers#registry()} are written (configs of other
 * methods would fail crcd-train's configs test); {@code --check} writes nothing and lists the files
 * that differ from the generated text (exit 1).
 */
public final class ConfigGenerator {

    /** A teacher/student pair. */
    record Pair(String teacher, String student) {
        String stem() {
            return teacher + "_" + student;
        }

        /** RepDistiller's rule: MobileNetV2 and ShuffleNet students train at lr 0.01. */
        boolean smallLr() {
            return Set.of("MobileNetV2", "ShuffleV1", "ShuffleV2").contains(student);
        }
    }

    /** The seven pairs of the CRCD paper's Table 5, in its column order. */
    static final List<Pair> TABLE5 =
            List.of(
                    new Pair("wrn_40_2", "wrn_16_2"),
                    new Pair("wrn_40_2", "wrn_40_1"),
                    new Pair("resnet56", "resnet20"),
                    new Pair("resnet110", "resnet20"),
                    new Pair("resnet110", "resnet32"),
                    new Pair("resnet32x4", "resnet8x4"),
                    new Pair("vgg13", "vgg8"));

    /** The six cross-architecture pairs of RepDistiller / CRD's Table 2. */
    static final List<Pair> CROSS =
            List.of(
                    new Pair("vgg13", "MobileNetV2"),
                    new Pair("ResNet50", "MobileNetV2"),
                    new Pair("ResNet50", "vgg8"),
                    new Pair("resnet32x4", "ShuffleV1"),
                    new Pair("resnet32x4", "ShuffleV2"),
                    new Pair("wrn_40_2", "ShuffleV1"));

    /** The Fashion-MNIST pairs; the second only for the paper's own rows (kd, crd, crcd). */
    static final Pair FASHION = new Pair("resnet20", "resnet8");

    static final Pair FASHION_LARGE = new Pair("resnet56", "resnet20");

    static final Set<String> FASHION_LARGE_FOLDERS = Set.of("kd", "crd", "crcd");

    /**
     * One row of the comparison: a config folder and suite label, the registered method, the
     * cross-entropy weight, the options (inline YAML, per pair) and the header comment.
     *
     * @param folder the folder under {@code configs/<dataset>/}, or {@code null} for a suite-only
     *     row
     * @param label the suite label
     * @param method the method name in {@code Distillers}
     * @param ceWeight {@code loss.ce_weight}
     * @param options the inline YAML of {@code distill.options} for a pair, "" for none
     * @param description the header line after "on CIFAR-100." for a pair
     */
    record Row(
            String folder,
            String label,
            String method,
            String ceWeight,
            Function<Pair, String> options,
            Function<Pair, String> description) {

        static Row of(
                String folder, String label, String method, String ce, String opts, String what) {
            return new Row(folder, label, method, ce, p -> opts, p -> what);
        }

        /**
         * A RepDistiller method with weight {@code beta}: the row alone ({@code -a 0}) and "+KD"
         * ({@code -a 1}).
         */
        static List<Row> zoo(String name, String label, String beta, String what) {
            return List.of(
                    of(
                            name,
                            label,
                            name,
                            "1.0",
                            "alpha: 0.0, beta: " + beta,
                            label + " alone, RepDistiller's -a 0 -b " + beta + ": " + what + "."),
                    of(
                            name + "_kd",
                            label + "+KD",
                            name,
                            "1.0",
                            "alpha: 1.0, beta: " + beta,
                            label
                                    + "+KD (Tab. 5 combines every method with KD): -a 1 -b "
                                    + beta
                                    + ", KD T = 4; "
                                    + what
                                    + "."));
        }
    }

    /** mdistiller's DKD.BETA per pair (configs/cifar100/dkd/*.yaml); absent pairs use 8.0. */
    static final Map<String, String> DKD_BETA =
            Map.of(
                    "resnet56_resnet20", "2.0",
                    "resnet110_resnet32", "2.0",
                    "resnet110_resnet20",
                            "2.0", // no mdistiller config: as its other resnet110 pair
                    "vgg13_vgg8", "6.0",
                    "wrn_40_2_wrn_16_2", "6.0",
                    "wrn_40_2_wrn_40_1", "6.0",
                    "vgg13_MobileNetV2", "6.0");

    static String dkdBeta(Pair p) {
        return DKD_BETA.getOrDefault(p.stem(), "8.0");
    }

    /** The table: one line per method (two for a method alone and +KD). */
    static final List<Row> METHODS = methods();

    private static List<Row> methods() {
        List<Row> rows = new ArrayList<>();
        rows.add(
                Row.of(
                        "kd",
                        "KD",
                        "kd",
                        "0.1",
                        "alpha: 0.9, temperature: 4",
                        "Hinton KD as RepDistiller runs it: -r 0.1 -a 0.9, T = 4."));
        rows.addAll(Row.zoo("fitnet", "FitNet", "100", "hint on stage 2 (hint_layer 2), ConvReg"));
        rows.addAll(Row.zoo("at", "AT", "1000", "attention transfer, p = 2, every stage"));
        rows.addAll(Row.zoo("sp", "SP", "3000", "similarity-preserving, last stage"));
        rows.addAll(Row.zoo("cc", "CC", "0.02", "correlation congruence, embeddings 128"));
        rows.addAll(Row.zoo("vid", "VID", "1", "variational information, every stage"));
        rows.addAll(Row.zoo("rkd", "RKD", "1", "relational KD, distance 25 + angle 50"));
        rows.addAll(Row.zoo("pkt", "PKT", "30000", "probabilistic knowledge transfer"));
        rows.addAll(Row.zoo("ab", "AB", "0", "activation boundaries, init stage only"));
        rows.addAll(Row.zoo("ft", "FT", "200", "factor transfer, paraphraser in the init stage"));
        rows.addAll(
                Row.zoo(
                        "fsp",
                        "FSP",
                        "0",
                        "flow of solution procedure, init stage only (RepDistiller's -b 50 weighs"
                                + " a main-stage loss of 0)"));
        rows.addAll(Row.zoo("nst", "NST", "50", "neuron selectivity transfer, every stage"));
        rows.add(Row.of(null, "CRD", "crd", "1.0", "beta: 0.8", "")); // suites only: CRD alone
        rows.add(
                Row.of(
                        "crd",
                        "CRD+KD",
                        "crd_kd",
                        "1.0",
                        "alpha: 1.0, beta: 0.8",
                        "CRD+KD as in the CRD/CRCD tables: -a 1 -b 0.8 (KD T = 4, 16384"
                                + " negatives, NCE t = 0.07)."));
        rows.add(
                Row.of(
                        "sskd",
                        "SSKD",
                        "sskd",
                        "0.1",
                        "",
                        "SSKD (xuguodong03/SSKD student.py; KD is part of it): ce 0.1, kd 0.9,"
                                + " tf 2.7, ss 10 (the method's defaults)."));
        rows.add(
                new Row(
                        "dkd",
                        "DKD",
                        "dkd",
                        "1.0",
                        p -> "alpha: 1.0, beta: " + dkdBeta(p) + ", temperature: 4, warmup: 20",
                        p ->
                                "DKD as mdistiller (configs/cifar100/dkd): CE 1.0, TCKD alpha 1,"
                                        + " NCKD beta "
                                        + dkdBeta(p)
                                        + ", T = 4, warm-up 20 epochs."));
        rows.add(
                Row.of(
                        "frcd",
                        "FRCD",
                        "frcd",
                        "1.0",
                        "alpha: 1.0, beta_feature: 0.5",
                        "FRCD (feature relation only, Tab. 5): alpha 1 (KD), beta_feature 0.5."));
        rows.add(
                Row.of(
                        "grcd",
                        "GRCD",
                        "grcd",
                        "1.0",
                        "alpha: 1.0, beta_gradient: 0.5",
                        "GRCD (gradient relation only, Tab. 5): alpha 1 (KD), beta_gradient 0.5."));
        rows.add(
                Row.of(
                        "crcd",
                        "CRCD",
                        "crcd",
                        "1.0",
                        "alpha: 1.0, beta_feature: 0.5, beta_gradient: 0.5",
                        "CRCD (Eq. 17): alpha 1 (KD), beta_feature 0.5, beta_gradient 0.5, N ="
                                + " 500, tau = 0.05."));
        return List.copyOf(rows);
    }

    private ConfigGenerator() {}

    /**
     * Writes (or checks) the configs.
     *
     * @param args {@code [--all] [--check] [--root DIR]}
     * @throws IOException on a write error
     */
    public static void main(String[] args) throws IOException {
        boolean all = false;
        boolean check = false;
        Path root = Path.of("configs");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--all" -> all = true;
                case "--check" -> check = true;
                case "--root" -> root = Path.of(args[++i]);
                default -> {
                    System.err.println(
                            "configs: unknown argument '"
                                    + args[i]
                                    + "'; use [--all] [--check] [--root DIR]");
                    System.exit(2);
                }
            }
        }
        Map<String, String> files = generate(all ? null : Distillers.registry().keySet());
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path f = root.resolve(e.getKey());
            boolean same =
                    Files.isRegularFile(f)
                            && Files.readString(f, StandardCharsets.UTF_8).equals(e.getValue());
            if (!same) {
                differ.add(e.getKey());
                if (!check) {
                    Files.createDirectories(f.getParent());
                    Files.writeString(f, e.getValue(), StandardCharsets.UTF_8);
                }
            }
        }
        System.out.println(
                (check ? "configs differing from the generator: " : "configs written: ")
                        + differ.size()
                        + " of "
                        + files.size()
                        + " under "
                        + root
                        + (all ? " (all methods)" : " (registered methods)"));
        differ.forEach(d -> System.out.println("  " + d));
        if (check && !differ.isEmpty()) {
            System.exit(1);
        }
    }

    /**
     * Returns every generated file by its path under {@code configs/}.
     *
     * @param registered the methods to write, or {@code null} for every row
     * @return path to text, sorted
     */
    public static Map<String, String> generate(Set<String> registered) {
        List<Row> rows = new ArrayList<>();
        for (Row r : METHODS) {
            if (registered == null || registered.contains(r.method())) {
                rows.add(r);
            }
        }
        Map<String, String> out = new TreeMap<>();
        List<Pair> cifarPairs = new ArrayList<>(TABLE5);
        cifarPairs.addAll(CROSS);
        Set<String> teachers = new LinkedHashSet<>();
        Set<String> students = new LinkedHashSet<>();
        for (Pair p : cifarPairs) {
            teachers.add(p.teacher());
            students.add(p.student());
        }
        for (String t : teachers) {
            out.put("cifar100/teachers/" + t + ".yaml", cifarTrain(t, true));
        }
        for (String s : students) {
            out.put("cifar100/vanilla/" + s + ".yaml", cifarTrain(s, false));
        }
        for (Row r : rows) {
            for (Pair p : r.folder() == null ? List.<Pair>of() : cifarPairs) {
                out.put("cifar100/" + r.folder() + "/" + p.stem() + ".yaml", cifarDistill(r, p));
            }
        }
        for (String t : List.of(FASHION.teacher(), FASHION_LARGE.teacher())) {
            out.put("fashion-mnist/teachers/" + t + ".yaml", fashionTrain(t, true));
        }
        for (String s : List.of(FASHION.student(), FASHION_LARGE.student())) {
            out.put("fashion-mnist/vanilla/" + s + ".yaml", fashionTrain(s, false));
        }
        for (Row r : rows) {
            List<Pair> pairs =
                    r.folder() == null
                            ? List.<Pair>of()
                            : FASHION_LARGE_FOLDERS.contains(r.folder())
                                    ? List.of(FASHION, FASHION_LARGE)
                                    : List.of(FASHION);
            for (Pair p : pairs) {
                out.put(
                        "fashion-mnist/" + r.folder() + "/" + p.stem() + ".yaml",
                        fashionDistill(r, p));
            }
        }
        out.put("bench/cifar100-table5.yaml", Suites.table5(rows));
        out.put("bench/cifar100-cross-arch.yaml", Suites.crossArch(rows));
        out.put("bench/fashion-mnist-zoo.yaml", Suites.fashionZoo(rows));
        return out;
    }

    private static final String CIFAR_WD =
            "# weight decay 5e-4 (the CRCD paper states 1e-4: --set optim.weight_decay=0.0001).\n";

    private static String cifarRecipe(boolean smallLr) {
        return "# CIFAR-100 recipe (RepDistiller): SGD 0.9, batch 64, 240 epochs, lr "
                + (smallLr ? "0.01 (its rate for MobileNetV2/ShuffleNet)" : "0.05")
                + ", x0.1 at 150/180/210,\n"
                + CIFAR_WD;
    }

    private static String cifarBody(String kind) {
        return "kind: "
                + kind
                + "\nseed: 1\ndevice: auto\n"
                + "data: {name: cifar100, root: null, augment: true, batch_size: 64,"
                + " test_batch_size: 256}\n";
    }

    private static String cifarOptim(boolean smallLr) {
        return "optim: {lr: "
                + (smallLr ? "0.01" : "0.05")
                + ", momentum: 0.9, weight_decay: 0.0005, epochs: 240, milestones: [150, 180,"
                + " 210], gamma: 0.1}\n";
    }

    private static boolean smallLrModel(String model) {
        return new Pair("", model).smallLr();
    }

    private static String cifarTrain(String model, boolean teacher) {
        boolean small = smallLrModel(model);
        String dir = teacher ? "teachers" : "vanilla";
        return (teacher
                        ? "# Teacher " + model + " on CIFAR-100 with cross-entropy.\n"
                        : "# Vanilla student "
                                + model
                                + " on CIFAR-100 (cross-entropy only, no teacher).\n")
                + cifarRecipe(small)
                + cifarBody("train")
                + "model: {name: "
                + model
                + "}\n"
                + cifarOptim(small)
                + "loss: {ce_weight: 1.0}\n"
                + "output: {dir: runs/cifar100/"
                + dir
                + "/"
                + model
                + "}\n";
    }

    private static String distillLines(Row r, Pair p, String dataset) {
        String opts = r.options().apply(p);
        return "loss: {ce_weight: "
                + r.ceWeight()
                + "}\n"
                + "distill: {method: "
                + r.method()
                + (opts.isEmpty() ? "" : ", options: {" + opts + "}")
                + "}\n"
                + "output: {dir: runs/"
                + dataset
                + "/"
                + r.folder()
                + "/"
                + p.stem()
                + "}\n";
    }

    private static String cifarDistill(Row r, Pair p) {
        boolean small = p.smallLr();
        return "# "
                + p.teacher()
                + " -> "
                + p.student()
                + " on CIFAR-100. "
                + r.description().apply(p)
                + "\n"
                + cifarRecipe(small)
                + "# Needs the teacher: crcd-train train --config configs/cifar100/teachers/"
                + p.teacher()
                + ".yaml\n"
                + cifarBody("distill")
                + "model: {name: "
                + p.student()
                + "}\n"
                + "teacher: {name: "
                + p.teacher()
                + ", checkpoint: runs/cifar100/teachers/"
                + p.teacher()
                + "/model.params}\n"
                + cifarOptim(small)
                + distillLines(r, p, "cifar100");
    }

    private static final String FASHION_HEAD =
            "# Fashion-MNIST (offline: Debian package dataset-fashion-mnist, see scripts/setup.sh).\n"
                    + "# 20 epochs, lr 0.05 x0.1 at 10/15; scripts/quickstart.sh runs it shorter on"
                    + " a subset via --set.\n";

    private static String fashionBody(String kind) {
        return "kind: "
                + kind
                + "\nseed: 1\ndevice: cpu\n"
                + "data: {name: fashion-mnist, root: null, subset_per_class: 0, augment: true,"
                + " batch_size: 64, test_batch_size: 256}\n";
    }

    private static final String FASHION_OPTIM =
            "optim: {lr: 0.05, momentum: 0.9, weight_decay: 0.0005, epochs: 20, milestones: [10,"
                    + " 15], gamma: 0.1}\n";

    private static String fashionTrain(String model, boolean teacher) {
        String dir = teacher ? "teachers" : "vanilla";
        return (teacher
                        ? "# Teacher " + model + " on Fashion-MNIST.\n"
                        : "# Vanilla student "
                                + model
                                + " on Fashion-MNIST (cross-entropy only).\n")
                + FASHION_HEAD
                + fashionBody("train")
                + "model: {name: "
                + model
                + "}\n"
                + FASHION_OPTIM
                + "loss: {ce_weight: 1.0}\n"
                + "output: {dir: runs/fashion-mnist/"
                + dir
                + "/"
                + model
                + "}\n";
    }

    private static String fashionDistill(Row r, Pair p) {
        return "# "
                + p.teacher()
                + " -> "
                + p.student()
                + " on Fashion-MNIST. "
                + r.description().apply(p)
                + "\n"
                + FASHION_HEAD
                + fashionBody("distill")
                + "model: {name: "
                + p.student()
                + "}\n"
                + "teacher: {name: "
                + p.teacher()
                + ", checkpoint: runs/fashion-mnist/teachers/"
                + p.teacher()
                + "/model.params}\n"
                + FASHION_OPTIM
                + distillLines(r, p, "fashion-mnist");
    }
}
