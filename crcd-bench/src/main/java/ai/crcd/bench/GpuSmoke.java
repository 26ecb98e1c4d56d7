package ai.crcd.bench;

import ai.crcd.bench.io.Csv;
import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.bench.suite.Stats;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.models.Models;
import ai.crcd.train.Devices;
import ai.crcd.train.data.DataSets;
import ai.crcd.train.data.ImageLoader;
import ai.crcd.train.data.ImageSet;
import ai.crcd.train.data.IndexedBatch;
import ai.crcd.train.run.AtomicFiles;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Smoke test of the training step on a device: a few hundred steps of one method (default CRCD,
 * resnet56 -> resnet20) on generated, learnable CIFAR-shaped data (class templates plus noise, the
 * loader's augmentation), checking that the loss goes down. The teacher keeps its random
 * initialisation: the test is about the loop running on the device, not about accuracy.
 *
 * <p>Writes {@code gpu-smoke.csv} (step, ms, loss terms) and {@code gpu-smoke.md} (verdict) to
 * {@code --out}; exits 0 when the mean loss of the last 10% of steps is below that of the first
 * 10%.
 */
@Command(
        name = "gpu-smoke",
        mixinStandardHelpOptions = true,
        description = "A few hundred training steps on the device; checks that the loss goes down.")
public final class GpuSmoke implements Callable<Integer> {

    @Option(
            names = "--device",
            defaultValue = "auto",
            description = "cpu, gpu or auto; default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--teacher", defaultValue = "resnet56")
    String teacher;

    @Option(names = "--student", defaultValue = "resnet20")
    String student;

    @Option(
            names = "--method",
            defaultValue = "CRCD",
            description = "a label of the step benchmark's methods; default: ${DEFAULT-VALUE}")
    String method;

    @Option(names = "--steps", defaultValue = "300")
    int steps;

    @Option(names = "--batch", defaultValue = "64")
    int batch;

    @Option(names = "--classes", defaultValue = "100")
    int classes;

    @Option(names = "--size", defaultValue = "32")
    int size;

    @Option(names = "--images", defaultValue = "5000", description = "generated training images")
    int images;

    @Option(
            names = "--out",
            required = true,
            description = "folder for gpu-smoke.csv and gpu-smoke.md")
    Path out;

    /**
     * Runs the smoke test from the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(SuiteMain.commandLine().execute(prepend("gpu-smoke", args)));
    }

    private static String[] prepend(String first, String[] rest) {
        String[] a = new String[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    @Override
    public Integer call() throws Exception {
        if (steps < 20) {
            throw new IllegalArgumentException("--steps: got " + steps + ", allowed: at least 20");
        }
        MethodSpec m = SuiteMain.selectMethods(List.of(method)).get(0);
        Device dev = Devices.select(device);
        Engine.getInstance().setRandomSeed(1);
        ImageSet set = DataSets.synthetic(images, classes, 3, size, size, 1);
        Shape in = new Shape(1, 3, size, size);
        Csv csv = null;
        List<Double> losses = new ArrayList<>();
        List<Double> ms = new ArrayList<>();
        long t0 = System.nanoTime();
        try (NDManager root = NDManager.newBaseManager(dev);
                ImageLoader loader =
                        ImageLoader.builder()
                                .setData(set)
                                .setBatchSize(batch)
                                .setManager(root)
                                .optAugment(true)
                                .optSeed(1)
                                .optDropLast(true)
                                .build()) {
            DistillableNetwork t = Models.create(teacher, classes, 3);
            t.initialize(root, DataType.FLOAT32, in);
            t.freezeParameters(true);
            try (StepRig rig =
                    new StepRig(
                            root,
                            t,
                            Models.create(student, classes, 3),
                            m,
                            in,
                            set.labels(),
                            1,
                            0.05)) {
                int step = 0;
                for (int epoch = 0; step < steps; epoch++) {
                    for (Iterator<IndexedBatch> it = loader.epoch(epoch);
                            it.hasNext() && step < steps;
                            step++) {
                        try (IndexedBatch b = it.next()) {
                            long s0 = System.nanoTime();
                            float[] terms = rig.step(b.images(), b.labels(), b.indices());
                            double dt = (System.nanoTime() - s0) / 1e6;
                            if (csv == null) {
                                List<String> header =
                                        new ArrayList<>(List.of("step", "ms", "loss"));
                                rig.termNames().forEach(n -> header.add("loss_" + n));
                                csv = new Csv(header);
                            }
                            double sum = 0;
                            List<Object> row = new ArrayList<>(List.of(step + 1, dt));
                            for (float v : terms) {
                                sum += v;
                            }
                            row.add(sum);
                            for (float v : terms) {
                                row.add(v);
                            }
                            csv.add(row);
                            losses.add(sum);
                            ms.add(dt);
                            if ((step + 1) % 50 == 0) {
                                System.out.printf(
                                        Locale.ROOT,
                                        "step %d: loss %.4f, %.1f ms%n",
                                        step + 1,
                                        sum,
                                        dt);
                            }
                        }
                    }
                }
            }
        }
        int k = Math.max(1, steps / 10);
        double first = Stats.mean(losses.subList(0, k));
        double last = Stats.mean(losses.subList(losses.size() - k, losses.size()));
        boolean finite = losses.stream().allMatch(Double::isFinite);
        boolean pass = finite && last < first;
        String md =
                String.format(
                        Locale.ROOT,
                        "gpu-smoke: %s -> %s, method %s, batch %d, %d steps on %s (%d generated %dx%d images, %d "
                                + "classes)%n- mean loss of the first %d steps %.4f, of the last %d steps %.4f: %s%n"
                                + "- median step %.1f ms (all steps, incl. warm-up); total %.1f s%n",
                        teacher,
                        student,
                        m.label(),
                        batch,
                        steps,
                        StepBench.deviceName(dev),
                        images,
                        size,
                        size,
                        classes,
                        k,
                        first,
                        k,
                        last,
                        pass
                                ? "**PASS** (loss went down)"
                                : "**FAIL** (loss did not go down"
                                        + (finite ? "" : "; non-finite")
                                        + ")",
                        Stats.median(ms),
                        (System.nanoTime() - t0) / 1e9);
        csv.write(out.resolve("gpu-smoke.csv"));
        AtomicFiles.write(out.resolve("gpu-smoke.md"), md);
        Machine.write(out);
        System.out.print(md);
        return pass ? 0 : 1;
    }
}
