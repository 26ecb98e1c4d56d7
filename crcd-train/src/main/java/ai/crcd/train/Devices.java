package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.djl.Device;
import ai.djl.engine.Engine;

/** Turns the config's {@code device} into a DJL device, with a clear error when CUDA is absent. */
public final class Devices {

    private Devices() {}

    /**
     * Selects the device with the engine's GPU count.
     *
     * @param device {@code cpu}, {@code gpu} or {@code auto}
     * @return the device
     */
    public static Device select(String device) {
        Engine e = Engine.getInstance();
        return select(device, e.getGpuCount(), e.getEngineName() + " " + e.getVersion());
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
