package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.djl.Device;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Device names per process ({@code gpuN}, {@code gpu-local} from the scheduler's local rank),
 * checked against a given GPU count so that the parsing is tested on a CPU-only machine.
 */
class DevicesTest {

    @Test
    void djlDeviceNamesPickThatGpu() {
        assertEquals(Device.gpu(0), Devices.select("gpu0", 4, "PyTorch"));
        assertEquals(Device.gpu(1), Devices.select("gpu1", 4, "PyTorch"));
        assertEquals(Device.gpu(3), Devices.select("gpu3", 4, "PyTorch"));
        assertEquals(Device.gpu(0), Devices.select("gpu", 4, "PyTorch"));
        assertEquals(Device.cpu(), Devices.select("auto", 0, "PyTorch"));
        ConfigException e =
                assertThrows(ConfigException.class, () -> Devices.select("gpu4", 4, "PyTorch"));
        assertTrue(
                e.getMessage().startsWith("device: got 'gpu4', allowed: gpu0 to gpu3"),
                e.getMessage());
        e = assertThrows(ConfigException.class, () -> Devices.select("gpu1", 0, "PyTorch"));
        assertTrue(e.getMessage().contains("sees no CUDA device"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Devices.select("cuda:1", 4, "PyTorch"));
        assertEquals("device: got 'cuda:1', allowed: " + Devices.ALLOWED, e.getMessage());
        assertThrows(ConfigException.class, () -> Devices.checkName("device", "gpu-1"));
        Devices.checkName("device", "gpu12");
    }

    @Test
    void localRankFromTheSchedulerPicksOneGpuPerProcess() {
        // Slurm: 4 tasks on a node with 4 GPUs -> task i on gpu i
        for (int i = 0; i < 4; i++) {
            Map<String, String> env =
                    Map.of("SLURM_LOCALID", Integer.toString(i), "SLURM_PROCID", "9");
            assertEquals(Device.gpu(i), Devices.select("gpu-local", 4, "PyTorch", env));
        }
        // more processes than GPUs: round robin
        assertEquals(
                Device.gpu(1),
                Devices.select("gpu-local", 2, "PyTorch", Map.of("LOCAL_RANK", "3")));
        // the explicit variable wins over the scheduler's
        assertEquals(
                Device.gpu(2),
                Devices.select(
                        "gpu-local",
                        4,
                        "PyTorch",
                        Map.of("CRCD_LOCAL_RANK", "2", "LOCAL_RANK", "0")));
        // torchrun's before Slurm's
        assertEquals(
                Device.gpu(1),
                Devices.select(
                        "gpu-local",
                        4,
                        "PyTorch",
                        Map.of("LOCAL_RANK", "1", "SLURM_LOCALID", "0")));
        assertEquals(3, Devices.localRank(Map.of("OMPI_COMM_WORLD_LOCAL_RANK", " 3 ")));

        ConfigException none =
                assertThrows(
                        ConfigException.class,
                        () ->
                                Devices.select(
                                        "gpu-local",
                                        4,
                                        "PyTorch",
                                        Map.of("CUDA_VISIBLE_DEVICES", "0,1")));
        assertTrue(
                none.getMessage().contains("$CRCD_LOCAL_RANK, $LOCAL_RANK, $SLURM_LOCALID"),
                none.getMessage());
        ConfigException bad =
                assertThrows(
                        ConfigException.class,
                        () ->
                                Devices.select(
                                        "gpu-local", 4, "PyTorch", Map.of("SLURM_LOCALID", "x")));
        assertTrue(bad.getMessage().contains("$SLURM_LOCALID (it holds 'x')"), bad.getMessage());
        ConfigException cpuOnly =
                assertThrows(
                        ConfigException.class,
                        () -> Devices.select("gpu-local", 0, "PyTorch", Map.of("LOCAL_RANK", "0")));
        assertTrue(cpuOnly.getMessage().contains("sees no CUDA device"), cpuOnly.getMessage());
    }
}
