package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run-folder lock across real processes: a child JVM takes the lock, then either waits (the
 * folder is in use) or halts without cleaning up (as {@code kill -9} would leave it).
 */
class RunLockTest {

    /** Child process: takes the lock of args[0], prints "locked", then waits or halts. */
    public static final class Holder {
        private Holder() {}

        /**
         * Entry point of the child JVM.
         *
         * @param args folder, then {@code wait} or {@code halt}
         * @throws Exception if the lock cannot be taken
         */
        public static void main(String[] args) throws Exception {
            RunLock lock = RunLock.acquire(Path.of(args[0]));
            System.out.println("locked " + lock.file());
            System.out.flush();
            if ("halt".equals(args[1])) {
                Runtime.getRuntime().halt(0); // no close(), no shutdown hooks: a killed run
            }
            Thread.sleep(60_000);
        }
    }

    private static Process child(Path dir, String mode) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p =
                new ProcessBuilder(
                                java,
                                "-cp",
                                System.getProperty("java.class.path"),
                                Holder.class.getName(),
                                dir.toString(),
                                mode)
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
        BufferedReader out =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertTrue(line != null && line.startsWith("locked "), "child said " + line);
        return p;
    }

    @Test
    void aFolderHeldByAnotherProcessIsRefusedNamingTheOwner(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Process p = child(dir, "wait");
        try {
            ConfigException e = assertThrows(ConfigException.class, () -> RunLock.acquire(dir));
            String msg = e.getMessage();
            assertTrue(
                    msg.startsWith("output.dir: " + dir + " is in use by crcd run pid " + p.pid()),
                    msg);
            assertTrue(msg.contains("wait for it to finish or choose another output.dir"), msg);
            assertEquals(1, msg.lines().count());
            // the refused attempt left the owner's lock as it was
            assertTrue(Files.readString(dir.resolve(RunLock.FILE)).contains("pid=" + p.pid()));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        // the owner was killed: its lock is stale and is taken over
        try (RunLock l = RunLock.acquire(dir)) {
            assertTrue(Files.readString(l.file()).contains("pid=" + ProcessHandle.current().pid()));
        }
        assertTrue(Files.notExists(dir.resolve(RunLock.FILE)), "released");
    }

    @Test
    void staleLockOfAKilledRunIsTakenOverAndReleased(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Process p = child(dir, "halt");
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String stale = Files.readString(dir.resolve(RunLock.FILE));
        assertTrue(stale.contains("pid=" + p.pid()), stale);
        assertTrue(ProcessHandle.of(p.pid()).map(h -> !h.isAlive()).orElse(true));
        RunLock l = RunLock.acquire(dir);
        assertTrue(Files.readString(l.file()).contains("pid=" + ProcessHandle.current().pid()));
        // held now: a second taker in this JVM is refused
        assertThrows(ConfigException.class, () -> RunLock.acquire(dir));
        l.close();
        assertTrue(Files.notExists(dir.resolve(RunLock.FILE)));
    }

    @Test
    void lockFromAnotherHostIsRefusedWithTheFix(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Path file = dir.resolve(RunLock.FILE);
        Files.writeString(
                file,
                String.join(
                        "\n",
                        List.of(
                                "pid=4242",
                                "host=some-other-host.invalid",
                                "started=2026-01-01T00:00:00Z",
                                "process_start=-1",
                                "token=t")));
        ConfigException e = assertThrows(ConfigException.class, () -> RunLock.acquire(dir));
        assertEquals(
                "output.dir: "
                        + dir
                        + " is in use by crcd run pid 4242 on host some-other-host.invalid (since"
                        + " 2026-01-01T00:00:00Z): wait for it or choose another output.dir; if that"
                        + " run is gone, delete "
                        + file,
                e.getMessage());
        // an empty lock file (a run died while creating it) is not guessed at either
        Files.writeString(file, "");
        ConfigException empty = assertThrows(ConfigException.class, () -> RunLock.acquire(dir));
        assertTrue(empty.getMessage().endsWith("delete " + file), empty.getMessage());
    }
}
