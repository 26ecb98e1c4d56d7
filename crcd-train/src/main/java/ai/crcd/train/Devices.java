package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.djl.Device;
import ai.djl.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns the config's {@code device} into a DJL device, with a clear error when CUDA is absent. */
public final class Devices {

    private static final Logger LOG = LoggerFactory.getLogger(Devices.class);

    private Devices() {}

    /**
     * Selects the device with the engine's GPU count.
     *
     * @param device {@code cpu}, {@code gpu} or {@code auto}
     * @return the device
     */
    public static Device select(String device) {
        Engine e = Engine.getInstance();
        Device d = select(device, e.getGpuCount(), e.getEngineName() + " " + e.getVersion());
        if ("auto".equals(device) && !d.isGpu()) {
            LOG.warn("device: auto found no GPU ({} sees none), training on the CPU", e.getEngineName());
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
     * Selects the device.
     *
     * @param device {@code cpu}, {@code gpu} or {@code auto}
     * @param gpuCount GPUs the engine sees
     * @param engine the engine's name and version, for the message
     * @return the device
     * @throws ConfigException for {@code gpu} when no GPU is visible, saying how to get CUDA
     */
    public static Device select(String device, int gpuCount, String engine) {
        switch (device) {
            case "cpu":
                return Device.cpu();
            case "auto":
                return gpuCount > 0 ? Device.gpu() : Device.cpu();
            case "gpu":
                if (gpuCount > 0) {
                    return Device.gpu();
                }
                throw ConfigException.bad(
                        "device",
                        "gpu",
                        "cpu or auto: the engine ("
                                + engine
                                + ") sees no CUDA device, because this build carries the CPU"
                                + " libtorch. For CUDA, build with 'mvn -Dcuda package' (no CPU"
                                + " natives; DJL downloads the CUDA libtorch on first use when"
                                + " online) or, offline, set PYTORCH_LIBRARY_PATH to a local"
                                + " CUDA libtorch, PYTORCH_FLAVOR (e.g. cu128) and a matching DJL"
                                + " JNI; see docs/training.md");
            default:
                throw ConfigException.bad("device", device, "one of [cpu, gpu, auto]");
        }
    }
}
