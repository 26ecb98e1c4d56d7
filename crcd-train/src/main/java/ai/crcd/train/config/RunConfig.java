package ai.crcd.train.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run, bound from YAML (see {@code docs/config.md}). Keys are snake_case in YAML and the fields
 * below in Java; every field has the CIFAR-100 recipe default. Fields are public so that code (the
 * benchmark module) can build or change a config; {@link ConfigLoader} validates it.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public class RunConfig {

    /** {@code train} (a network from scratch with cross-entropy) or {@code distill}. */
    public String kind = "train";

    /** Seed of every random choice (initialisation, shuffling, augmentation, distiller). */
    public long seed = 1;

    /** {@code cpu}, {@code gpu} or {@code auto} (GPU when the engine sees one). */
    public String device = "cpu";

    /** Number of devices; only 1 is supported (see docs/training.md). */
    public int devices = 1;

    /** What to do with a non-finite loss: {@code stop} (error) or {@code skip} (skip the step). */
    public String nanPolicy = "stop";

    /** When a run stops because its loss diverged or too many steps were skipped. */
    public Guard guard = new Guard();

    /** The data set and loader. */
    public Data data = new Data();

    /** The network that is trained (the student in a distill run). */
    public Network model = new Network();

    /** The frozen teacher; only for {@code kind: distill}. */
    public Teacher teacher;

    /** Optimiser and learning-rate schedule. */
    public Optim optim = new Optim();

    /** Cross-entropy weight. */
    public Loss loss = new Loss();

    /** Distillation method and its options. */
    public Distill distill = new Distill();

    /** Where and how often to write. */
    public Output output = new Output();

    /**
     * Thresholds of {@code ai.crcd.train.run.LossGuard}: a run that trips one stops with exit
     * status 1 and keeps the checkpoint of its last good epoch (see docs/training.md).
     */
    public static class Guard {
        /**
         * With {@code nan_policy: skip}: the largest fraction of an epoch's steps that may be
         * skipped; more stops the run (an epoch that skips all of its steps always does).
         */
        public double nanSkipLimit = 0.1;

        /**
         * A step whose total loss exceeds this many times the reference loss (the first epoch's
         * mean, at least 1) stops the run; 0 = off.
         */
        public double divergenceFactor = 100;

        /** During the first epoch, the reference is the mean of its first this many steps. */
        public int referenceSteps = 20;

        /** A step whose total loss exceeds this stops the run whatever the reference; 0 = off. */
        public double maxLoss = 1e6;
    }

    /** Data set section. */
    public static class Data {
        /** Data set name, e.g. {@code fashion-mnist}, {@code cifar100}, {@code synthetic}. */
        public String name = "cifar100";

        /** Folder of the data set files; {@code null} = the data set's default location. */
        public String root;

        /**
         * Which images the run is evaluated on: {@code folder} (the data set's test split;
         * image-folder: {@code <root>/test/}), {@code holdout:F} (a fraction F of every training
         * class, chosen by the seed) or {@code train} (the training images, asked for explicitly).
         * See {@code docs/data.md}.
         */
        public String testSplit = "folder";

        /**
         * The data set's own options, e.g. image-folder {@code {size: 32, channels: 1}}, checked by
         * {@code ai.crcd.train.data.DataOptions}.
         */
        public Map<String, Object> options = new LinkedHashMap<>();

        /** Keep this many training images per class (0 = all). */
        public int subsetPerClass = 0;

        /** Keep this many test images per class (0 = all). */
        public int testSubsetPerClass = 0;

        /** Random crop and flip on training batches. */
        public boolean augment = true;

        /** Training batch size. */
        public int batchSize = 64;

        /** Evaluation batch size. */
        public int testBatchSize = 256;

        /** Shape of the generated data for {@code name: synthetic}. */
        public Synthetic synthetic = new Synthetic();
    }

    /** Generated data ({@code data.name: synthetic}), for tests and smoke runs. */
    public static class Synthetic {
        /** Training images. */
        public int trainSize = 256;

        /** Test images. */
        public int testSize = 128;

        /** Classes. */
        public int classes = 10;

        /** Channels. */
        public int channels = 3;

        /** Height and width. */
        public int size = 32;
    }

    /** A network. */
    public static class Network {
        /** Architecture name, one of {@code Models.names()}. */
        public String name = "resnet20";

        /** Class count; {@code null} = the data set's. */
        public Integer numClasses;
    }

    /** The teacher: a network plus its trained parameters. */
    public static class Teacher extends Network {
        /** Parameter file written by a {@code train} run ({@code model.params}). */
        public String checkpoint;
    }

    /** SGD with momentum and an epoch-milestone schedule (PyTorch semantics). */
    public static class Optim {
        /**
         * Initial learning rate; {@code null} = recipe (0.01 for MobileNet/ShuffleNet, else 0.05).
         */
        public Double lr;

        /** Momentum. */
        public double momentum = 0.9;

        /** L2 weight decay (5e-4 as RepDistiller; the CRCD paper states 1e-4). */
        public double weightDecay = 5e-4;

        /** Epochs. */
        public int epochs = 240;

        /** Epochs (counted from 0) at whose start lr is multiplied by {@link #gamma}. */
        public List<Integer> milestones = new ArrayList<>(List.of(150, 180, 210));

        /** Factor applied at each milestone. */
        public double gamma = 0.1;
    }

    /** Loss weights of the loop itself. */
    public static class Loss {
        /** Weight of the student's cross-entropy on the labels. */
        public double ceWeight = 1.0;
    }

    /** Distillation method. */
    public static class Distill {
        /** Method name registered with {@code ai.crcd.core.Distillers}. */
        public String method = "vanilla";

        /** The method's options (weights, temperatures, sizes), checked by the method. */
        public Map<String, Object> options = new LinkedHashMap<>();
    }

    /** Output section. */
    public static class Output {
        /** Run folder. */
        public String dir = "runs/run";

        /** Training steps between loss syncs (one host copy per interval). */
        public int logInterval = 50;

        /** Seconds between progress lines (0 = every log interval). */
        public double progressSeconds = 2.0;

        /**
         * A file name in the run folder to which one line per epoch is appended (a {@code
         * RunListener} added from the config), or {@code null} for none.
         */
        public String logFile;
    }

    /**
     * Returns the learning rate in effect: {@link Optim#lr} or the recipe default for the model.
     *
     * @return the initial learning rate
     */
    public double resolvedLr() {
        if (optim.lr != null) {
            return optim.lr;
        }
        return recipeLr(model.name);
    }

    /**
     * Returns the recipe's initial learning rate for an architecture.
     *
     * @param modelName the architecture
     * @return 0.01 for MobileNetV2 and ShuffleNets, 0.05 otherwise
     */
    public static double recipeLr(String modelName) {
        String n = modelName == null ? "" : modelName.toLowerCase(java.util.Locale.ROOT);
        return n.contains("mobilenet") || n.contains("shuffle") ? 0.01 : 0.05;
    }
}
