package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.train.config.ConfigException;
import ai.djl.Device;
import ai.djl.engine.Engine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device selection, exit codes and help of the command line. */
class CommandLineTest {

    /**
     * Needs an engine without GPUs (this build carries the CPU natives): skipped, not failed, on a
     * machine whose engine sees a GPU.
     */
    @Test
    void gpuWithoutCudaIsAClearError() {
        int gpus = Engine.getInstance().getGpuCount();
        assumeTrue(gpus == 0, "the engine sees " + gpus + " GPU(s); this test needs none");
        ConfigException e = assertThrows(ConfigException.class, () -> Devices.select("gpu"));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("device: got 'gpu', allowed: cpu or auto"), msg);
        assertTrue(msg.contains("-Dcuda"), msg);
        assertTrue(msg.contains("PYTORCH_LIBRARY_PATH"), msg);
        assertEquals(Device.cpu(), Devices.select("auto"));
        assertEquals(Device.cpu(), Devices.select("cpu"));
    }

    @Test
    void deviceChoiceForAGivenGpuCount() {
        assertEquals(Device.gpu(), Devices.select("gpu", 2, "PyTorch"));
        assertEquals(Device.gpu(), Devices.select("auto", 1, "PyTorch"));
        assertEquals(Device.cpu(), Devices.select("auto", 0, "PyTorch"));
        assertEquals(Device.cpu(), Devices.select("cpu", 2, "PyTorch"));
        ConfigException e =
                assertThrows(ConfigException.class, () -> Devices.select("gpu", 0, "PyTorch"));
        assertTrue(e.getMessage().startsWith("device: got 'gpu'"), e.getMessage());
    }

    @Test
    void badConfigExitsWithTwoAndOneLine(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "kind: train\noptim: {lr: -1}\n");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        int code;
        try {
            code = Main.run("train", "--config", cfg.toString(), "--set", "model.name=resnet20");
        } finally {
            System.setErr(old);
        }
        assertEquals(2, code);
        String text = err.toString().trim();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("config error: " + cfg + ": "), text);
    }

    @Test
    void helpListsCommands() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        int code;
        try {
            code = Main.run("--help");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        for (String c : new String[] {"train", "distill", "run", "validate"}) {
            assertTrue(out.toString().contains(c), out.toString());
        }
    }
}
