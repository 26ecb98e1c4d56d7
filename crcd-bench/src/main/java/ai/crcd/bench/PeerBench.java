package ai.crcd.bench;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.crcd.RelationContrastiveLoss;
import ai.crcd.core.kd.KdLoss;
import ai.crcd.models.Models;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * crcd's step benchmark and the PyTorch-eager peer ({@code peer_step.py}) measured in one run,
 * interleaved (docs/benchmarks.md, "crcd vs PyTorch").
 *
 * <p>Both processes build every method once (same pair, batch, N, R, C, tau, optimiser, the same
 * number of intra-op threads) and stay alive. Each round runs every method once on each side: for
 * the k-th method of the round (order rotated from round to round, as {@link StepBench}) one crcd
 * step ({@link StepRig}, the step crcd-train runs) and one peer step, alternating which side goes
 * first. Only one side computes at a time (the other waits on a pipe, its OpenMP threads sleep), so
 * the two never compete for the cores, and a change of machine load falls on both sides of a method
 * within a second. Warm-up rounds are run and not timed. Before timing, both sides compute KD and
 * the relation contrastive loss of the same small inputs in float64, and the values are compared.
 */
public final class PeerBench {

    private final Builder b;

    private PeerBench(Builder b) {
        this.b = b;
    }

    /**
     * Returns a new builder: resnet56 -&gt; resnet20, batch 64, CIFAR-100 shapes, 8 warm-up and 20
     * timed rounds.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The outcome.
     *
     * @param table the table
     * @param peerInfo the peer's first line (torch version, threads, BLAS)
     * @param check the loss check: name to {crcd value, peer value}
     */
    public record Result(PeerTable table, JsonNode peerInfo, Map<String, double[]> check) {}

    /**
     * Runs the benchmark.
     *
     * @return the table and the peer's description
     * @throws IOException if the peer cannot run
     */
    public Result run() throws IOException {
        Shape in = new Shape(1, b.channels, b.size, b.size);
        Random rnd = new Random(b.seed);
        int[] datasetLabels = new int[b.datasetSize];
        for (int i = 0; i < datasetLabels.length; i++) {
            datasetLabels[i] = rnd.nextInt(b.classes);
        }
        Engine.getInstance().setRandomSeed((int) b.seed);
        List<String> labels = b.methods.stream().map(MethodSpec::label).toList();
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                b.python,
                                b.script.toString(),
                                "--serve",
                                "--teacher",
                                b.teacher,
                                "--student",
                                b.student,
                                "--batch",
                                String.valueOf(b.batch),
                                "--classes",
                                String.valueOf(b.classes),
                                "--channels",
                                String.valueOf(b.channels),
                                "--size",
                                String.valueOf(b.size),
                                "--dataset-size",
                                String.valueOf(b.datasetSize),
                                "--threads",
                                String.valueOf(b.threads),
                                "--seed",
                                String.valueOf(b.seed),
                                "--methods",
                                String.join(",", labels)));
        if (b.peerChannelsLast) {
            cmd.add("--channels-last");
        }
        b.log.accept("starting the PyTorch peer: " + String.join(" ", cmd));
        try (NDManager root = NDManager.newBaseManager(Device.cpu());
                PeerProcess peer = PeerProcess.start(cmd, b.env, b.peerLog)) {
            b.log.accept("peer: " + peer.info());
            Map<String, double[]> check = check(root, peer, rnd);
            DistillableNetwork teacher = Models.create(b.teacher, b.classes, b.channels);
            teacher.initialize(root, DataType.FLOAT32, in);
            teacher.freezeParameters(true);
            DistillableNetwork probe = Models.create(b.student, b.classes, b.channels);
            probe.initialize(root, DataType.FLOAT32, in);
            StepMacs macs =
                    new StepMacs(
                            b.batch,
                            NetworkMacs.count(teacher),
                            NetworkMacs.count(probe),
                            teacher.featureDim(),
                            probe.featureDim(),
                            b.classes);
            List<StepRig> rigs = new ArrayList<>();
            for (MethodSpec m : b.methods) {
                b.log.accept("building " + m.label() + " (" + m.method() + ")");
                rigs.add(
                        new StepRig(
                                root,
                                teacher,
                                Models.create(b.student, b.classes, b.channels),
                                m,
                                in,
                                datasetLabels,
                                b.seed,
                                0.05));
            }
            List<NDArray[]> pool = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                NDArray x = root.randomNormal(new Shape(b.batch, b.channels, b.size, b.size));
                long[] ys = new long[b.batch];
                long[] idx = new long[b.batch];
                for (int j = 0; j < b.batch; j++) {
                    idx[j] = rnd.nextInt(b.datasetSize);
                    ys[j] = datasetLabels[(int) idx[j]];
                }
                pool.add(new NDArray[] {x, root.create(ys), root.create(idx)}); // (B,C,H,W),(B),(B)
            }
            int n = rigs.size();
            List<List<Double>> crcdMs = new ArrayList<>();
            List<List<Double>> torchMs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                crcdMs.add(new ArrayList<>());
                torchMs.add(new ArrayList<>());
            }
            int step = 0;
            for (int round = 0; round < b.warmup + b.rounds; round++) {
                for (int k = 0; k < n; k++) {
                    int i = (k + round) % n;
                    boolean crcdFirst = (round + k) % 2 == 0;
                    NDArray[] batch = pool.get(step++ % pool.size());
                    double c = Double.NaN;
                    double t = Double.NaN;
                    if (crcdFirst) {
                        c = crcdStep(rigs.get(i), batch, root);
                    }
                    t = peerStep(peer, labels.get(i));
                    if (!crcdFirst) {
                        c = crcdStep(rigs.get(i), batch, root);
                    }
                    if (round >= b.warmup) {
                        crcdMs.get(i).add(c);
                        torchMs.get(i).add(t);
                    }
                }
                b.log.accept(
                        "round "
                                + (round + 1)
                                + " of "
                                + (b.warmup + b.rounds)
                                + (round < b.warmup ? " (warm-up)" : "")
                                + " done");
            }
            List<PeerTable.Row> rows = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                MethodSpec m = b.methods.get(i);
                rows.add(
                        new PeerTable.Row(
                                m.label(),
                                m.method(),
                                PeerTable.Timing.of(crcdMs.get(i)),
                                PeerTable.Timing.of(torchMs.get(i)),
                                macs.perStep(m).orElse(-1)));
                rigs.get(i).close();
            }
            return new Result(new PeerTable(setup(peer.info(), check), rows), peer.info(), check);
        }
    }

    private double crcdStep(StepRig rig, NDArray[] batch, NDManager root) {
        try (NDManager sm = root.newSubManager()) {
            NDArray x = copy(batch[0], sm);
            NDArray y = copy(batch[1], sm);
            NDArray idx = copy(batch[2], sm);
            long t0 = System.nanoTime();
            float[] terms = rig.step(x, y, idx);
            double ms = (System.nanoTime() - t0) / 1e6;
            double loss = 0;
            for (float v : terms) {
                loss += v;
            }
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException(
                        rig.method().label() + ": crcd's loss is " + loss + " " + rig.termNames());
            }
            return ms;
        }
    }

    private static double peerStep(PeerProcess peer, String label) throws IOException {
        JsonNode r = peer.request(Map.of("cmd", "step", "method", label));
        if (!r.has("ms")) {
            throw new IOException("peer: no step time in its answer " + r);
        }
        return r.get("ms").asDouble();
    }

    private static NDArray copy(NDArray a, NDManager to) {
        NDArray c = a.duplicate();
        c.attach(to);
        return c;
    }

    /**
     * KD (T = 4) and the relation contrastive loss (tau = 0.05) of the same random float64 inputs
     * in crcd and in the peer.
     */
    private static Map<String, double[]> check(NDManager root, PeerProcess peer, Random rnd)
            throws IOException {
        double[][] s = matrix(rnd, 8, 10, 3.0);
        double[][] t = matrix(rnd, 8, 10, 3.0);
        double[][][] u = unitVectors(rnd, 2, 3, 4);
        double[][][] vp = unitVectors(rnd, 2, 3, 4);
        double[][][] vn = unitVectors(rnd, 2, 5, 4);
        double kd;
        double rc;
        try (NDManager m = root.newSubManager()) {
            kd =
                    KdLoss.compute(array(m, s), array(m, t), 4.0)
                            .toType(DataType.FLOAT64, false)
                            .getDouble();
            rc =
                    new RelationContrastiveLoss(RelationContrastiveLoss.Type.RC, 0.05, 0.4, 1.0)
                            .compute(array(m, u), array(m, vp), array(m, vn))
                            .toType(DataType.FLOAT64, false)
                            .getDouble();
        }
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("cmd", "check");
        req.put("student_logits", s);
        req.put("teacher_logits", t);
        req.put("temperature", 4.0);
        req.put("u", u);
        req.put("v_pos", vp);
        req.put("v_neg", vn);
        req.put("tau", 0.05);
        JsonNode r = peer.request(req);
        Map<String, double[]> out = new LinkedHashMap<>();
        out.put("KD", new double[] {kd, r.path("kd").asDouble(Double.NaN)});
        out.put("RC", new double[] {rc, r.path("rc").asDouble(Double.NaN)});
        return out;
    }

    private static double[][] matrix(Random rnd, int rows, int cols, double scale) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) {
            for (int j = 0; j < cols; j++) {
                row[j] = scale * rnd.nextGaussian();
            }
        }
        return a;
    }

    private static double[][][] unitVectors(Random rnd, int b, int m, int c) {
        double[][][] a = new double[b][][];
        for (int i = 0; i < b; i++) {
            a[i] = matrix(rnd, m, c, 1.0);
            for (double[] v : a[i]) {
                double norm = 0;
                for (double x : v) {
                    norm += x * x;
                }
                norm = Math.sqrt(norm);
                for (int j = 0; j < c; j++) {
                    v[j] /= norm;
                }
            }
        }
        return a;
    }

    private static NDArray array(NDManager m, double[][] a) {
        double[] flat = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, flat, i * a[0].length, a[0].length);
        }
        return m.create(flat, new Shape(a.length, a[0].length));
    }

    private static NDArray array(NDManager m, double[][][] a) {
        int d1 = a[0].length;
        int d2 = a[0][0].length;
        double[] flat = new double[a.length * d1 * d2];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < d1; j++) {
                System.arraycopy(a[i][j], 0, flat, (i * d1 + j) * d2, d2);
            }
        }
        return m.create(flat, new Shape(a.length, d1, d2));
    }

    private String setup(JsonNode info, Map<String, double[]> check) {
        StringBuilder sb = new StringBuilder();
        sb.append(
                String.format(
                        Locale.ROOT,
                        "%s → %s, batch %d, random input %dx%dx%d, %d classes, %,d training labels; CPU"
                                + " (%s), %d intra-op threads on each side. crcd: DJL %s, libtorch %s."
                                + " PyTorch: torch %s (Debian python3-torch, eager, Python %s), BLAS %s,"
                                + " memory format %s (crcd: channels-last on the CPU)."
                                + " %d warm-up + %d timed rounds; each round runs every method once on"
                                + " each side, alternating which side goes first, method order rotated"
                                + " per round.\n",
                        b.teacher,
                        b.student,
                        b.batch,
                        b.channels,
                        b.size,
                        b.size,
                        b.classes,
                        b.datasetSize,
                        Machine.cpuModel(),
                        b.threads,
                        Engine.getDjlVersion(),
                        Engine.getInstance().getVersion(),
                        info.path("torch").asText("?"),
                        info.path("python").asText("?"),
                        blasName(info.path("blas").asText("?")),
                        info.path("channels_last").asBoolean(false)
                                ? "channels-last (--peer-channels-last)"
                                : "NCHW (PyTorch's default)",
                        b.warmup,
                        b.rounds));
        sb.append("\nSame losses on the same float64 inputs:");
        for (Map.Entry<String, double[]> e : check.entrySet()) {
            double c = e.getValue()[0];
            double p = e.getValue()[1];
            double rel = Math.abs(c - p) / Math.max(Math.abs(p), 1e-30);
            sb.append(
                    String.format(
                            Locale.ROOT,
                            " %s crcd %.9g, PyTorch %.9g (relative difference %.1e%s);",
                            e.getKey(),
                            c,
                            p,
                            rel,
                            rel <= 1e-9 ? "" : ", **differ**"));
        }
        sb.setLength(sb.length() - 1);
        sb.append(".\n");
        return sb.toString();
    }

    /**
     * Names the BLAS library from the paths the peer loaded.
     *
     * @param paths the peer's loaded BLAS libraries
     * @return e.g. {@code "OpenBLAS (libblas.so.3, libopenblasp-r0.3.21.so)"}
     */
    static String blasName(String paths) {
        String lower = paths.toLowerCase(Locale.ROOT);
        String kind =
                lower.contains("openblas")
                        ? "OpenBLAS"
                        : lower.contains("mkl")
                                ? "MKL"
                                : lower.contains("blis")
                                        ? "BLIS"
                                        : lower.contains("/blas/libblas")
                                                ? "reference BLAS (netlib)"
                                                : "unknown";
        List<String> files = new ArrayList<>();
        for (String p : paths.split(",\\s*")) {
            String f = p.substring(p.lastIndexOf('/') + 1);
            if (!f.isBlank() && !f.startsWith("liblapack")) {
                files.add(f);
            }
        }
        return kind + " (" + String.join(", ", files) + ")";
    }

    /** Builder for {@link PeerBench}. */
    public static final class Builder {
        private String teacher = "resnet56";
        private String student = "resnet20";
        private int batch = 64;
        private int classes = 100;
        private int channels = 3;
        private int size = 32;
        private int datasetSize = 50_000;
        private List<MethodSpec> methods = StepBench.DEFAULT_METHODS;
        private int warmup = 8;
        private int rounds = 20;
        private int threads = Runtime.getRuntime().availableProcessors();
        private long seed = 1;
        private String python = "/usr/bin/python3";
        private Path script = Path.of("crcd-bench/src/main/python/peer_step.py");
        private Map<String, String> env = Map.of();
        private Path peerLog = Path.of("peer-stderr.log");
        private boolean peerChannelsLast;
        private Consumer<String> log = System.out::println;

        Builder() {}

        /**
         * Sets the pair.
         *
         * @param teacher the teacher, a CIFAR ResNet (resnetN) the peer also builds
         * @param student the student, likewise
         * @return this builder
         */
        public Builder optPair(String teacher, String student) {
            for (String a : List.of(teacher, student)) {
                if (!a.matches("resnet(8|14|20|32|44|56|110)")) {
                    throw new IllegalArgumentException(
                            "--teacher/--student: the peer builds RepDistiller's CIFAR ResNets"
                                    + " (resnet8 ... resnet110), got '"
                                    + a
                                    + "'");
                }
            }
            this.teacher = teacher;
            this.student = student;
            return this;
        }

        /**
         * Sets batch, classes, channels, image side and the number of training labels.
         *
         * @param batch B
         * @param classes classes
         * @param channels image channels
         * @param size image side
         * @param datasetSize training labels (CRD's memory rows)
         * @return this builder
         */
        public Builder optShapes(int batch, int classes, int channels, int size, int datasetSize) {
            this.batch = batch;
            this.classes = classes;
            this.channels = channels;
            this.size = size;
            this.datasetSize = datasetSize;
            return this;
        }

        /**
         * Sets the methods; labels must be among the peer's (vanilla, KD, CRD+KD, CRCD, FRCD,
         * GRCD).
         *
         * @param methods the methods
         * @return this builder
         */
        public Builder optMethods(List<MethodSpec> methods) {
            this.methods = List.copyOf(methods);
            return this;
        }

        /**
         * Sets the warm-up and timed rounds.
         *
         * @param warmup untimed rounds &gt;= 0
         * @param rounds timed rounds &gt;= 1
         * @return this builder
         */
        public Builder optRounds(int warmup, int rounds) {
            if (warmup < 0 || rounds < 1) {
                throw new IllegalArgumentException(
                        "--warmup must be >= 0 and --rounds >= 1, got " + warmup + ", " + rounds);
            }
            this.warmup = warmup;
            this.rounds = rounds;
            return this;
        }

        /**
         * Sets the intra-op threads of the peer (crcd's are set by the JVM property {@code
         * ai.djl.pytorch.num_threads} before the engine starts).
         *
         * @param threads threads &gt;= 1
         * @return this builder
         */
        public Builder optThreads(int threads) {
            this.threads = threads;
            return this;
        }

        /**
         * Sets the Python interpreter, the peer script and its extra environment.
         *
         * @param python e.g. {@code /usr/bin/python3}
         * @param script {@code peer_step.py}
         * @param env extra environment variables (e.g. {@code LD_LIBRARY_PATH} of a BLAS)
         * @return this builder
         */
        public Builder optPeer(String python, Path script, Map<String, String> env) {
            this.python = python;
            this.script = script;
            this.env = Map.copyOf(env);
            return this;
        }

        /**
         * Runs the peer's networks and inputs in {@code torch.channels_last} memory format instead
         * of PyTorch's default (B, C, H, W) order, as crcd's networks run on the CPU.
         *
         * @param channelsLast whether the peer uses channels-last
         * @return this builder
         */
        public Builder optPeerChannelsLast(boolean channelsLast) {
            this.peerChannelsLast = channelsLast;
            return this;
        }

        /**
         * Sets the file for the peer's stderr.
         *
         * @param peerLog the file
         * @return this builder
         */
        public Builder optPeerLog(Path peerLog) {
            this.peerLog = peerLog;
            return this;
        }

        /**
         * Sets the seed.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets where progress lines go.
         *
         * @param log the sink
         * @return this builder
         */
        public Builder optLog(Consumer<String> log) {
            this.log = log;
            return this;
        }

        /**
         * Builds the benchmark.
         *
         * @return the benchmark
         */
        public PeerBench build() {
            return new PeerBench(this);
        }
    }
}
