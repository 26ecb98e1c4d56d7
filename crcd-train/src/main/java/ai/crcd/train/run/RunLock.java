package ai.crcd.train.run;

import ai.crcd.train.config.ConfigException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run per run folder: the lock file {@value #FILE} in the folder, holding the owner's pid,
 * host, start time and a random token, created atomically ({@code CREATE_NEW}) before anything else
 * is written there and deleted when the run ends, also when it fails.
 *
 * <p>A second run on the folder is refused with a {@link ConfigException} naming the folder and the
 * owner. A lock left behind by a killed run (its pid is not running on this host, or runs a process
 * started at another time) is stale: it is taken over with a warning, so that {@code --resume}
 * after a crash needs no manual step. Taking over is race-free: the taker must also obtain the OS
 * lock ({@link FileChannel#tryLock}) that every owner holds on the file while it runs, and re-reads
 * the file afterwards. A lock from another host cannot be checked and is never taken over; the
 * message says which file to delete if that run is gone. See docs/training.md.
 */
public final class RunLock implements AutoCloseable {

    /** The lock file's name inside the run folder. */
    public static final String FILE = "run.lock";

    private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
    private static final int ATTEMPTS = 5;

    private final Path file;
    private final FileChannel channel;
    private final FileLock osLock;
    private final Owner owner;

    private RunLock(Path file, FileChannel channel, FileLock osLock, Owner owner) {
        this.file = file;
        this.channel = channel;
        this.osLock = osLock;
        this.owner = owner;
    }

    /**
     * Takes the lock of a run folder, creating the folder if needed.
     *
     * @param dir the run folder
     * @return the lock, to be closed when the run ends
     * @throws ConfigException if another run holds the folder (one line naming folder and owner)
     * @throws IOException if the folder or the lock file cannot be created
     */
    public static RunLock acquire(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        Owner me = Owner.current();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            FileChannel created = null;
            try {
                created =
                        FileChannel.open(
                                file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                // held, or left behind: look at the owner below
            }
            if (created != null) {
                RunLock l = claim(file, created, me);
                if (l != null) {
                    return l;
                }
                continue;
            }
            Owner holder = Owner.read(file);
            if (holder == null) {
                if (Files.notExists(file)) {
                    continue; // released in the meantime
                }
                throw new ConfigException(
                        "output.dir: "
                                + dir
                                + " is locked by "
                                + file
                                + ", which names no owner (a run is starting, or one died while"
                                + " taking the lock): if no crcd run uses this folder, delete "
                                + file);
            }
            if (!holder.host.equals(me.host)) {
                throw new ConfigException(
                        "output.dir: "
                                + dir
                                + " is in use by crcd run pid "
                                + holder.pid
                                + " on host "
                                + holder.host
                                + " (since "
                                + holder.started
                                + "): wait for it or choose another output.dir; if that run is"
                                + " gone, delete "
                                + file);
            }
            if (holder.isAlive()) {
                throw inUse(dir, holder);
            }
            RunLock l = takeOver(file, holder, me);
            if (l != null) {
                return l;
            }
        }
        throw new ConfigException(
                "output.dir: " + dir + " is being locked and unlocked by other runs; try again");
    }

    private static ConfigException inUse(Path dir, Owner holder) {
        return new ConfigException(
                "output.dir: "
                        + dir
                        + " is in use by crcd run pid "
                        + holder.pid
                        + " on this host ("
                        + holder.host
                        + ", since "
                        + holder.started
                        + "): wait for it to finish or choose another output.dir");
    }

    /** Takes over a stale lock, or returns null to start again (the file changed meanwhile). */
    private static RunLock takeOver(Path file, Owner stale, Owner me) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return null;
        }
        FileLock os = tryLock(ch);
        if (os == null) {
            ch.close();
            Owner now = Owner.read(file);
            throw inUse(file.getParent(), now != null ? now : stale);
        }
        if (!stale.equals(Owner.read(file))) {
            os.release();
            ch.close();
            return null; // someone replaced it between our two reads
        }
        LOG.warn(
                "{}: taking over the stale lock of crcd run pid {} on {} (started {}, not running)",
                file,
                stale.pid,
                stale.host,
                stale.started);
        return write(file, ch, os, me);
    }

    /** Claims a newly created lock file. */
    private static RunLock claim(Path file, FileChannel ch, Owner me) throws IOException {
        FileLock os = tryLock(ch);
        if (os == null) {
            ch.close();
            return null;
        }
        return write(file, ch, os, me);
    }

    private static RunLock write(Path file, FileChannel ch, FileLock os, Owner me)
            throws IOException {
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(me.text().getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        if (!me.equals(Owner.read(file))) {
            // the path no longer names the file we locked (its owner deleted it just now)
            os.release();
            ch.close();
            return null;
        }
        return new RunLock(file, ch, os, me);
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // held by another run in this JVM
        }
    }

    /**
     * Returns the lock file.
     *
     * @return the path of {@value #FILE}
     */
    public Path file() {
        return file;
    }

    /** Deletes the lock file (if it is still this run's) and releases the OS lock. */
    @Override
    public void close() throws IOException {
        try {
            if (owner.equals(Owner.read(file))) {
                Files.deleteIfExists(file);
            }
        } finally {
            try {
                osLock.release();
            } finally {
                channel.close();
            }
        }
    }

    /**
     * Returns this host's name as run locks and suite claims record it: the kernel's host name
     * (falling back to the resolver's), so that both name hosts alike.
     *
     * @return the host name, or {@code "unknown-host"}
     */
    public static String hostName() {
        try {
            Path kernel = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(kernel)) {
                String h = Files.readString(kernel).trim();
                if (!h.isEmpty()) {
                    return h;
                }
            }
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException | SecurityException e) {
            return "unknown-host";
        }
    }

    /**
     * Returns when a process started, as recorded in lock and claim files.
     *
     * @param process the process
     * @return epoch milliseconds, or -1 when the system does not tell
     */
    public static long processStartMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }

    /**
     * Whether a process of this host still runs: its pid is alive and it started when the recorded
     * one did (within a second, so a reused pid is not mistaken for the owner). An unknown start
     * time on either side counts as the same process.
     *
     * @param pid the recorded pid
     * @param startMillis the recorded start ({@link #processStartMillis}), &lt;= 0 if unknown
     * @return true if that process still runs
     */
    public static boolean isRunning(long pid, long startMillis) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(
                        h -> {
                            long s = processStartMillis(h);
                            return startMillis <= 0 || s < 0 || Math.abs(s - startMillis) <= 1000;
                        })
                .orElse(false);
    }

    /** Who holds a lock: the content of the lock file. */
    static final class Owner {
        final long pid;
        final String host;
        final String started;
        final long processStartMillis;
        final String token;

        Owner(long pid, String host, String started, long processStartMillis, String token) {
            this.pid = pid;
            this.host = host;
            this.started = started;
            this.processStartMillis = processStartMillis;
            this.token = token;
        }

        static Owner current() {
            ProcessHandle self = ProcessHandle.current();
            return new Owner(
                    self.pid(),
                    hostName(),
                    Instant.now().toString(),
                    processStartMillis(self),
                    UUID.randomUUID().toString());
        }

        /** Reads a lock file; null if it is missing or does not (yet) name an owner. */
        static Owner read(Path file) throws IOException {
            Properties p = new Properties();
            try {
                p.load(new java.io.StringReader(Files.readString(file)));
            } catch (NoSuchFileException e) {
                return null;
            } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException e) {
                return null;
            }
            try {
                return new Owner(
                        Long.parseLong(p.getProperty("pid")),
                        require(p, "host"),
                        require(p, "started"),
                        Long.parseLong(p.getProperty("process_start", "-1")),
                        require(p, "token"));
            } catch (NumberFormatException | NullPointerException e) {
                return null;
            }
        }

        private static String require(Properties p, String key) {
            String v = p.getProperty(key);
            if (v == null) {
                throw new NullPointerException(key);
            }
            return v;
        }

        String text() {
            return "# crcd run lock: the run folder is in use by this process\n"
                    + "pid="
                    + pid
                    + "\nhost="
                    + host
                    + "\nstarted="
                    + started
                    + "\nprocess_start="
                    + processStartMillis
                    + "\ntoken="
                    + token
                    + "\n";
        }

        /** Whether the owner (same host) still runs: its pid is alive and started when it did. */
        boolean isAlive() {
            return isRunning(pid, processStartMillis);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Owner other && token.equals(other.token) && pid == other.pid;
        }

        @Override
        public int hashCode() {
            return token.hashCode();
        }
    }
}
