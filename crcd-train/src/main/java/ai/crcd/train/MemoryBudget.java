package ai.crcd.train;

import ai.crcd.core.DistillSetup;
import ai.crcd.core.Distiller;
import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.AtomicFiles;
import ai.djl.Device;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a method whose training step cannot fit in memory before anything is allocated: the
 * distiller's own estimate ({@link Distiller#estimateStepBytes}) is compared with the memory
 * available on the device (CPU: the kernel's {@code MemAvailable}; GPU: free device memory). The
 * loop never names a method: the estimate comes from the distiller.
 */
public final class MemoryBudget {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryBudget.class);

    private MemoryBudget() {}

    /**
     * Checks the method's estimate against the memory available on the device.
     *
     * @param cfg the config (method, options and batch size for the message)
     * @param distiller the method, not initialised yet
     * @param setup the setup it will be initialised with
     * @param device the training device
     * @throws ConfigException when the estimate exceeds the available memory
     */
    public static void check(
            RunConfig cfg, Distiller distiller, DistillSetup setup, Device device) {
        check(cfg, distiller, setup, available(device), device.toString());
    }

    /**
     * Checks the method's estimate against a given amount of available memory.
     *
     * @param cfg the config
     * @param distiller the method, not initialised yet
     * @param setup the setup it will be initialised with
     * @param available available bytes, or a negative number when unknown (no check)
     * @param where the device, for the message
     * @return the estimate in bytes
     * @throws ConfigException when the estimate exceeds {@code available}
     */
    public static long check(
            RunConfig cfg, Distiller distiller, DistillSetup setup, long available, String where) {
        long need = distiller.estimateStepBytes(setup, cfg.data.batchSize);
        if (need <= 0) {
            return need;
        }
        if (available >= 0 && need > available) {
            throw new ConfigException(
                    "distill.options: "
                            + cfg.distill.method
                            + " with "
                            + cfg.distill.options
                            + " and data.batch_size "
                            + cfg.data.batchSize
                            + " needs about "
                            + AtomicFiles.bytes(need)
                            + " per training step (estimate), more than the "
                            + AtomicFiles.bytes(available)
                            + " available on "
                            + where
                            + "; lower the method's size options (negatives, sizes of banks or"
                            + " relations) or data.batch_size");
        }
        LOG.info(
                "{}: about {} of method memory per step (estimate; {} available on {})",
                cfg.distill.method,
                AtomicFiles.bytes(need),
                available >= 0 ? AtomicFiles.bytes(available) : "unknown",
                where);
        return need;
    }

    /**
     * Returns the memory available for tensors on a device.
     *
     * @param device the device
     * @return bytes, or -1 when unknown
     */
    public static long available(Device device) {
        if (device.isGpu()) {
            try {
                java.lang.management.MemoryUsage m =
                        ai.djl.util.cuda.CudaUtils.getGpuMemory(device);
                return m.getMax() - m.getUsed();
            } catch (RuntimeException | LinkageError e) {
                return -1;
            }
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        java.lang.management.OperatingSystemMXBean os =
                ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getFreeMemorySize();
        }
        return -1;
    }
}
