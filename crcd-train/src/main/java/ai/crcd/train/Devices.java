package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the config's {@code device} into a DJL device, with a clear error when CUDA is absent.
 *
 * <p>Accepted names: {@code cpu}; {@code gpu} (the first visible GPU); {@code gpuN} (DJL's name of
 * the N-th visible GPU, e.g. {@code gpu1}); {@code auto} (the first GPU when the engine sees one,
 * else the CPU); {@code gpu-local}: the visible GPU whose index is this process's local rank on its
 * node, read from the first set variable of {@link #LOCAL_RANK_VARIABLES} and taken modulo the
 * number of visible GPUs, so that one node runs one process (one suite shard) per GPU. When the
 * scheduler already gives each process its own GPU through {@code CUDA_VISIBLE_DEVICES} (Slurm
 * {@code --gres=gpu:1}, a Kubernetes {@code nvidia.com/gpu: 1} limit), that GPU is the only visible
 * one and plain {@code gpu} is the right choice.
 */
public final class Devices {

    private static final Logger LOG = LoggerFactory.getLogger(Devices.class);

    /**
     * Environment variables that carry a process's rank on its node, in the order they are read: an
     * explicit {@code CRCD_LOCAL_RANK}, torchrun's {@code LOCAL_RANK}, Slurm's {@code
     * SLURM_LOCALID}, Open MPI's {@code OMPI_COMM_WORLD_LOCAL_RANK}.
     */
    public static final List<String> LOCAL_RANK_VARIABLES =
            List.of("CRCD_LOCAL_RANK", "LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK");

    /** The allowed values, for messages. */
    public static final String ALLOWED = "one of [cpu, gpu, gpuN (e.g. gpu1), gpu-local, auto]";

    private static final Pattern GPU_N = Pattern.compile("gpu(\\d{1,4})");

    private Devices() {}

    /**
     * Checks a device name without looking at the hardware (for config validation).
     *
     * @param key the config key, for the message
     * @param device the name
     * @throws ConfigException when the name is none of {@link #ALLOWED}
     */
    public static void checkName(String key, String device) {
        if (device == null
                || !(device.equals("cpu")
                        || device.equals("gpu")
                        || device.equals("auto")
                        || device.equals("gpu-local")
                        || GPU_N.matcher(device).matches())) {
            throw ConfigException.bad(key, device, ALLOWED);
        }
    }

    /**
     * Selects the device with the engine's GPU count and this process's environment.
     *
     * @param device a name among {@link #ALLOWED}
     * @return the device
     */
    public static Device select(String device) {
        Engine e = Engine.getInstance();
        Device d =
                select(
                        device,
                        e.getGpuCount(),
                        e.getEngineName() + " " + e.getVersion(),
                        System.getenv());
        if ("auto".equals(device) && !d.isGpu()) {
            LOG.warn(
                    "device: auto found no GPU ({} sees none), training on the CPU",
                    e.getEngineName());
        } else {
            LOG.info("device: {}", describe(device, d));
        }
        return d;
    }

    /**
     * Describes the device chosen for a config value, for logs, summaries and metrics.
     *
     * @param requested the config's {@code device}
     * @param chosen the device selected
     * @return e.g. {@code "cpu"}, {@code "gpu(0)"} or {@code "cpu (device: auto, no GPU visible)"}
     */
    public static String describe(String requested, Device chosen) {
        String name = chosen.isGpu() ? "gpu(" + chosen.getDeviceId() + ")" : "cpu";
        if ("auto".equals(requested)) {
            return name + (chosen.isGpu() ? " (device: auto)" : " (device: auto, no GPU visible)");
        }
        return name;
    }

    /**
     * Selects the device without an environment ({@code gpu-local} is then an error).
     *
     * @param device a name among {@link #ALLOWED}
     * @param gpuCount GPUs the engine sees
     * @param engine the engine's name and version, for the message
     * @return the device
     */
    public static Device select(String device, int gpuCount, String engine) {
        return select(device, gpuCount, engine, Map.of());
    }

    /**
     * Selects the device.
     *
     * @param device a name among {@link #ALLOWED}
     * @param gpuCount GPUs the engine sees
     * @param engine the engine's name and version, for the message
     * @param env the environment ({@code gpu-local} reads {@link #LOCAL_RANK_VARIABLES})
     * @return the device
     * @throws ConfigException for a GPU name when that GPU is not visible, saying how to get CUDA
     */
    public static Device select(
            String device, int gpuCount, String engine, Map<String, String> env) {
        checkName("device", device);
        switch (device) {
            case "cpu":
                return Device.cpu();
            case "auto":
                return gpuCount > 0 ? Device.gpu() : Device.cpu();
            case "gpu":
                return gpu(device, 0, gpuCount, engine);
            case "gpu-local":
                return gpu(device, localRank(env) % Math.max(gpuCount, 1), gpuCount, engine);
            default:
                Matcher m = GPU_N.matcher(device);
                m.matches();
                return gpu(device, Integer.parseInt(m.group(1)), gpuCount, engine);
        }
    }

    /**
     * Returns this process's rank on its node from the first set variable of {@link
     * #LOCAL_RANK_VARIABLES}.
     *
     * @param env the environment
     * @return the rank, at least 0
     * @throws ConfigException when none is set or the value is not a non-negative integer
     */
    public static int localRank(Map<String, String> env) {
        for (String name : LOCAL_RANK_VARIABLES) {
            String v = env.get(name);
            if (v == null || v.isBlank()) {
                continue;
            }
            try {
                int rank = Integer.parseInt(v.trim());
                if (rank >= 0) {
                    return rank;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw ConfigException.bad(
                    "device",
                    "gpu-local",
                    "a non-negative integer in $" + name + " (it holds '" + v + "')");
        }
        throw ConfigException.bad(
                "device",
                "gpu-local",
                "a process started with one of $"
                        + String.join(", $", LOCAL_RANK_VARIABLES)
                        + " set to its rank on the node (or use gpu / gpuN)");
    }

    private static Device gpu(String name, int index, int gpuCount, String engine) {
        if (gpuCount == 0) {
            throw ConfigException.bad(
                    "device",
                    name,
                    "cpu or auto: the engine ("
                            + engine
                            + ") sees no CUDA device, because this build carries the CPU"
                            + " libtorch. For CUDA, build with 'mvn -Dcuda package' (no CPU"
                            + " natives; DJL downloads the CUDA libtorch on first use when"
                            + " online) or, offline, set PYTORCH_LIBRARY_PATH to a local"
                            + " CUDA libtorch, PYTORCH_FLAVOR (e.g. cu128) and a matching DJL"
                            + " JNI; see docs/training.md");
        }
        if (index >= gpuCount) {
            throw ConfigException.bad(
                    "device",
                    name,
                    "gpu0 to gpu"
                            + (gpuCount - 1)
                            + ": the engine sees "
                            + gpuCount
                            + " GPU(s) (CUDA_VISIBLE_DEVICES renumbers the visible GPUs from 0)");
        }
        return Device.gpu(index);
    }
}
