package ai.crcd.bench;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.bench.suite.Shard;
import ai.crcd.bench.suite.SuiteListing;
import ai.crcd.bench.suite.SuitePhase;
import ai.crcd.bench.suite.SuiteRunner;
import ai.crcd.bench.suite.SuiteSpec;
import ai.crcd.bench.suite.TrainingRunExecutor;
import ai.crcd.train.Devices;
import ai.crcd.train.TrainingException;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.data.DataSetException;
import ai.djl.Device;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The benchmark command line.
 *
 * <pre>
 * suite --suite configs/bench/fashion-mnist-quick.yaml --out runs/bench/fashion-mnist-quick [--resume]
 * suite --suite S --out DIR --shard K/N [--phase teachers|students] [--device gpu-local]   (one task of an array)
 * suite --suite S --out DIR --list [--shard K/N]      |      suite --suite S --out DIR --report
 * step  [--teacher resnet56 --student resnet20 --batch 64 --device cpu] [--profile DIR] --out runs/bench/step
 * profile-summary --steps 2 TRACE.json      (operators by self time of a libtorch/PyTorch Chrome trace)
 * peer  [--threads 2 --python /usr/bin/python3 --peer-env K=V] --out runs/bench/peer   (crcd vs PyTorch)
 * docs  --quick runs/bench/fashion-mnist-quick --step runs/bench/step [--out docs/benchmarks.md]
 * </pre>
 */
@Command(
        name = "crcd-bench",
        mixinStandardHelpOptions = true,
        description =
                "Benchmarks comparing distillation methods: accuracy suites, step time and memory.",
        subcommands = {
            SuiteMain.Suite.class,
            SuiteMain.Step.class,
            SuiteMain.Peer.class,
            SuiteMain.ProfileSummary.class,
            BenchDocs.class,
            GpuSmoke.class
        })
public final class SuiteMain implements Runnable {

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * Returns the command line with clear one-line errors for bad input.
     *
     * @return the command line
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SuiteMain());
        cl.setExecutionExceptionHandler(
                (e, cmd, parsed) -> {
                    Throwable t = e;
                    while (t.getCause() != null
                            && !(t instanceof IllegalArgumentException
                                    || t instanceof ConfigException)) {
                        t = t.getCause();
                    }
                    if (t instanceof IllegalArgumentException
                            || t instanceof java.io.IOException
                            || t instanceof ConfigException
                            || t instanceof TrainingException
                            || t instanceof DataSetException) {
                        cmd.getErr().println("crcd-bench: " + t.getMessage());
                        return 2;
                    }
                    throw e;
                });
        return cl;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** {@code suite}: runs a suite file, one shard of it, lists its runs, or merges its results. */
    @Command(
            name = "suite",
            mixinStandardHelpOptions = true,
            description =
                    "Train the teacher(s) once, then every method x seed student; write results.csv, "
                            + "per_epoch.csv, table.md, accuracy.png and curves.png. With --shard K/N (a job array's "
                            + "task) only shard K's runs, into the shared --out; --report merges what is finished.")
    static final class Suite implements Callable<Integer> {
        @Option(
                names = "--suite",
                required = true,
                description = "the suite YAML, e.g. configs/bench/fashion-mnist-quick.yaml")
        Path suite;

        @Option(
                names = "--out",
                required = true,
                description = "the output folder, e.g. runs/bench/fashion-mnist-quick")
        Path out;

        @Option(
                names = "--resume",
                description = "continue a suite started in --out (skip finished runs)")
        boolean resume;

        @Option(
                names = "--max-runs",
                defaultValue = "2147483647",
                description = "stop after this many runs (continue later with --resume)")
        int maxRuns;

        @Option(
                names = "--shard",
                paramLabel = "K/N",
                description =
                        "perform only shard K of N (0 <= K < N), each run under a claim file, into the shared"
                                + " --out (always continues it); e.g. --shard $SLURM_ARRAY_TASK_ID/4")
        String shard;

        @Option(
                names = "--phase",
                defaultValue = "all",
                paramLabel = "teachers|students|all",
                description =
                        "only the teachers' runs, only the students' runs, or both; default: ${DEFAULT-VALUE}")
        String phase;

        @Option(
                names = "--claim-timeout",
                defaultValue = "600",
                paramLabel = "SECONDS",
                description =
                        "a claim without heartbeat for this long is taken over; default: ${DEFAULT-VALUE}")
        double claimTimeout;

        @Option(
                names = "--device",
                paramLabel = "NAME",
                description =
                        "device of every run, overriding the suite's base: cpu, gpu, gpuN (e.g. gpu1),"
                                + " gpu-local (GPU = local rank from $LOCAL_RANK / $SLURM_LOCALID), auto")
        String device;

        @Option(
                names = "--list",
                description =
                        "print the runs with their index, phase, shard and state; run nothing")
        boolean list;

        @Option(
                names = "--report",
                description =
                        "merge every finished run in --out into results.csv, table.md and"
                                + " the plots, saying how many runs are missing; run nothing")
        boolean report;

        @Override
        public Integer call() throws Exception {
            SuiteSpec spec = SuiteSpec.load(suite);
            if (device != null) {
                Devices.checkName("--device", device);
            }
            Shard sh = shard == null ? null : Shard.parse(shard);
            SuitePhase ph = SuitePhase.parse(phase);
            if (list) {
                SuiteListing.print(spec, out, sh, System.out);
                return 0;
            }
            Duration timeout = Duration.ofMillis(Math.round(claimTimeout * 1000));
            SuiteRunner runner =
                    SuiteRunner.builder()
                            .setSuite(spec, suite.toAbsolutePath().getParent())
                            .setOut(out)
                            .setExecutor(new TrainingRunExecutor(device))
                            .optResume(resume)
                            .optMaxRuns(maxRuns)
                            .optShard(sh)
                            .optPhase(ph)
                            .optClaimTimeout(
                                    timeout,
                                    Duration.ofMillis(
                                            Math.min(5000, Math.max(100, timeout.toMillis() / 10))))
                            .build();
            if (report) {
                SuiteRunner.Outcome o = runner.report();
                System.out.println("wrote " + out.resolve("table.md"));
                return o.complete() ? 0 : 3;
            }
            SuiteRunner.Outcome o = runner.run();
            if (sh == null && ph == SuitePhase.ALL) {
                Machine.write(out);
                System.out.println("wrote " + out.resolve("table.md"));
            }
            return o.complete() ? 0 : 3;
        }
    }

    /** {@code step}: the step-time and memory benchmark. */
    @Command(
            name = "step",
            mixinStandardHelpOptions = true,
            description = "Median training-step time and auxiliary memory per method for one pair.")
    static final class Step implements Callable<Integer> {
        @Mixin PairOptions pair;

        @Option(
                names = "--batch",
                defaultValue = "64",
                split = ",",
                description = "batch size(s), comma-separated; default: ${DEFAULT-VALUE}")
        List<Integer> batches;

        @Option(
                names = "--device",
                defaultValue = "cpu",
                description = "cpu, gpu, gpuN, gpu-local or auto; default: ${DEFAULT-VALUE}")
        String device;

        @Option(
                names = "--methods",
                split = ",",
                description =
                        "labels among vanilla, KD, CRD+KD, CRCD, FRCD, GRCD and every other"
                                + " registered method by name, or all (default: all)")
        List<String> methods;

        @Option(
                names = "--warmup",
                defaultValue = "5",
                description = "untimed rounds; default: ${DEFAULT-VALUE}")
        int warmup;

        @Option(
                names = "--size",
                defaultValue = "32",
                description = "image side; default: ${DEFAULT-VALUE}")
        int size;

        @Option(
                names = "--channels",
                defaultValue = "3",
                description = "image channels; default: ${DEFAULT-VALUE}")
        int channels;

        @Option(names = "--loader-batches", defaultValue = "20")
        int loaderBatches;

        @Option(
                names = "--profile",
                paramLabel = "DIR",
                description =
                        "after the timed rounds, record 2 steps per method with libtorch's profiler:"
                                + " DIR/profile-<method>.json (Chrome trace) and DIR/profile.md"
                                + " (operators by self time)")
        Path profile;

        @Option(
                names = "--out",
                required = true,
                description = "folder for step-<device>-b<batch>.csv/.md")
        Path out;

        @Override
        public Integer call() throws Exception {
            List<MethodSpec> chosen = selectMethods(methods);
            Device dev = Devices.select(device); // a clear error without CUDA
            for (int batch : batches) {
                StepBench.Result r =
                        StepBench.builder()
                                .optPair(pair.teacher, pair.student)
                                .optBatch(batch)
                                .optInput(pair.classes, channels, size)
                                .optDatasetSize(pair.datasetSize)
                                .optMethods(chosen)
                                .optRounds(warmup, pair.rounds)
                                .optLoaderBatches(loaderBatches)
                                .optDevice(dev)
                                .optProfile(profile, 2)
                                .build()
                                .run();
                String prefix = "step-" + (dev.isGpu() ? "gpu" : "cpu") + "-b" + batch;
                r.write(out, prefix);
                Machine.write(out);
                System.out.println(r.markdown());
                System.out.println("wrote " + out.resolve(prefix + ".csv") + " and .md");
            }
            return 0;
        }
    }

    /** {@code profile-summary}: operators by self time of a Chrome trace. */
    @Command(
            name = "profile-summary",
            mixinStandardHelpOptions = true,
            description =
                    "Operators by self time per step of a Chrome trace written by libtorch's"
                            + " profiler (step --profile, or peer_step.py --profile).")
    static final class ProfileSummary implements Callable<Integer> {
        @Option(
                names = "--steps",
                defaultValue = "2",
                description = "training steps the trace covers; default: ${DEFAULT-VALUE}")
        int steps;

        @Option(names = "--top", defaultValue = "25", description = "default: ${DEFAULT-VALUE}")
        int top;

        @Parameters(paramLabel = "TRACE", description = "the trace (.json)")
        Path trace;

        @Override
        public Integer call() throws Exception {
            if (!java.nio.file.Files.isRegularFile(trace)) {
                throw new IllegalArgumentException("TRACE: no file " + trace);
            }
            System.out.print(TraceSummary.read(trace, steps).markdown(top));
            return 0;
        }
    }

    /** {@code peer}: crcd's step and the PyTorch-eager peer, interleaved, in one table. */
    @Command(
            name = "peer",
            mixinStandardHelpOptions = true,
            description =
                    "Step time of crcd and of the PyTorch-eager peer (peer_step.py) per method, run"
                            + " alternately in one invocation; writes peer-cpu-b<batch>.csv/.md with the"
                            + " ratios, multiply-adds per step and achieved G MAC/s.")
    static final class Peer implements Callable<Integer> {
        @Mixin PairOptions pair;

        @Option(names = "--batch", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
        int batch;

        @Option(
                names = "--methods",
                split = ",",
                description =
                        "labels among vanilla, KD, CRD+KD, CRCD, FRCD, GRCD (default: these six)")
        List<String> methods;

        @Option(
                names = "--warmup",
                defaultValue = "8",
                description =
                        "untimed rounds (CRCD's queues of 500 fill in 8 steps of 64); default:"
                                + " ${DEFAULT-VALUE}")
        int warmup;

        @Option(
                names = "--threads",
                description =
                        "intra-op threads of both sides (default: the JVM property"
                                + " ai.djl.pytorch.num_threads, else the processors)")
        Integer threads;

        @Option(
                names = "--python",
                defaultValue = "/usr/bin/python3",
                description = "the Python with Debian's python3-torch; default: ${DEFAULT-VALUE}")
        String python;

        @Option(
                names = "--script",
                defaultValue = "crcd-bench/src/main/python/peer_step.py",
                description = "default: ${DEFAULT-VALUE}")
        Path script;

        @Option(
                names = "--peer-env",
                paramLabel = "KEY=VALUE",
                description = "environment of the peer only (repeatable), e.g. LD_LIBRARY_PATH")
        java.util.Map<String, String> peerEnv;

        @Option(
                names = "--peer-channels-last",
                description =
                        "run the peer in torch.channels_last memory format, as crcd runs on the CPU"
                                + " (default: PyTorch's default NCHW)")
        boolean peerChannelsLast;

        @Option(names = "--out", required = true, description = "folder for peer-cpu-b<batch>.*")
        Path out;

        @Override
        public Integer call() throws Exception {
            // the peer implements the six methods of the original step table, not the whole zoo
            List<MethodSpec> chosen =
                    methods == null || methods.isEmpty()
                            ? StepBench.DEFAULT_METHODS
                            : selectMethods(methods);
            if (!java.nio.file.Files.isRegularFile(script)) {
                throw new IllegalArgumentException(
                        "--script: no file " + script + "; run from the repository root");
            }
            int t =
                    threads != null
                            ? threads
                            : Integer.getInteger(
                                    "ai.djl.pytorch.num_threads",
                                    Runtime.getRuntime().availableProcessors());
            if (t < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + t);
            }
            // read by DJL's PyTorch engine when it starts (below, not before)
            System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(t));
            if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
                System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            }
            PeerBench.Result r =
                    PeerBench.builder()
                            .optPair(pair.teacher, pair.student)
                            .optShapes(batch, pair.classes, 3, 32, pair.datasetSize)
                            .optMethods(chosen)
                            .optRounds(warmup, pair.rounds)
                            .optThreads(t)
                            .optPeer(python, script, peerEnv == null ? java.util.Map.of() : peerEnv)
                            .optPeerLog(out.resolve("peer-stderr.log"))
                            .optPeerChannelsLast(peerChannelsLast)
                            .build()
                            .run();
            String prefix = "peer-cpu-b" + batch;
            r.table().write(out, prefix);
            Machine.write(out);
            System.out.println(r.table().markdown());
            System.out.println("wrote " + out.resolve(prefix + ".csv") + " and .md");
            return 0;
        }
    }

    /**
     * The options the {@code step} and {@code peer} commands share: the pair, the timed rounds, the
     * class count and the data set size (CRD's bank rows).
     */
    static final class PairOptions {
        @Option(
                names = "--teacher",
                defaultValue = "resnet56",
                description = "default: ${DEFAULT-VALUE}")
        String teacher;

        @Option(
                names = "--student",
                defaultValue = "resnet20",
                description = "default: ${DEFAULT-VALUE}")
        String student;

        @Option(
                names = "--rounds",
                defaultValue = "20",
                description = "timed rounds; default: ${DEFAULT-VALUE}")
        int rounds;

        @Option(names = "--classes", defaultValue = "100")
        int classes;

        @Option(
                names = "--dataset-size",
                defaultValue = "50000",
                description = "training labels (CRD bank rows); default: ${DEFAULT-VALUE}")
        int datasetSize;
    }

    /**
     * Picks methods from {@link StepBench#everyMethod()} by label (case-insensitive), all for
     * {@code null} or {@code all}.
     *
     * @param labels the labels, or {@code null} / {@code [all]} for all
     * @return the methods
     */
    static List<MethodSpec> selectMethods(List<String> labels) {
        List<MethodSpec> every = StepBench.everyMethod();
        if (labels == null
                || labels.isEmpty()
                || (labels.size() == 1 && labels.get(0).trim().equalsIgnoreCase("all"))) {
            return every;
        }
        List<MethodSpec> out = new ArrayList<>();
        for (String l : labels) {
            MethodSpec m =
                    java.util.stream.Stream.concat(every.stream(), StepBench.EXTRA_METHODS.stream())
                            .filter(s -> s.label().equalsIgnoreCase(l.trim()))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    "--methods: unknown label '"
                                                            + l
                                                            + "', allowed: "
                                                            + every.stream()
                                                                    .map(MethodSpec::label)
                                                                    .toList()
                                                            + " and "
                                                            + StepBench.EXTRA_METHODS.stream()
                                                                    .map(MethodSpec::label)
                                                                    .toList()));
            out.add(m);
        }
        return out;
    }
}
