package ai.crcd.bench.suite;

import ai.crcd.train.run.RunLock;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Claim files that keep two processes from performing the same run of a shared suite folder.
 *
 * <p>A run's claims live in {@code OUT/claims/<run id>/claim-G.json}; G counts the takes of the run
 * (1, 2, ...), the highest holds. Taking generation G is an exclusive create ({@code CREATE_NEW},
 * atomic on a local file system and on NFSv3+), so of two processes racing for the same generation
 * exactly one wins. The file names the owner (host, pid, the pid's start time, shard) and the time
 * taken; the owner refreshes the file's modification time every {@code timeout / 4} while the run
 * lasts (a heartbeat independent of training progress).
 *
 * <p>A claim is stale, and the run may be taken again as generation G+1, when its heartbeat is
 * older than the timeout, or at once when its owner ran on this host and that process is gone (a
 * killed shard restarted on the same node). An owner that finds a higher generation than its own
 * has lost the run (it was stalled longer than the timeout): it stops heart-beating and the suite
 * does not write its record. Hosts must have synchronised clocks (NTP); the timeout must exceed any
 * pause of a live process.
 */
public final class RunClaims {

    /** The folder of the claims under the suite folder. */
    public static final String DIR = "claims";

    /** The default timeout after which a claim without heartbeat is taken again. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private static final Pattern NAME = Pattern.compile("claim-(\\d+)\\.json");
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path root;
    private final Duration timeout;
    private final Owner me;
    private final Consumer<String> log;

    /**
     * Who holds a claim.
     *
     * @param host the host name
     * @param pid the process id
     * @param pidStart the process's start time (ms since the epoch; tells a reused pid apart)
     * @param shard the shard, e.g. {@code 2/4}
     * @param taken when the claim was taken (ISO-8601)
     */
    public record Owner(
            @JsonProperty("host") String host,
            @JsonProperty("pid") long pid,
            @JsonProperty("pid_start") long pidStart,
            @JsonProperty("shard") String shard,
            @JsonProperty("taken") String taken) {

        @Override
        public String toString() {
            return host + " pid " + pid + " (shard " + shard + ", since " + taken + ")";
        }
    }

    /**
     * The state of a run's claim.
     *
     * @param generation the highest generation, 0 when never claimed
     * @param owner its owner, or {@code null}
     * @param live whether that claim still holds (not stale)
     */
    public record State(int generation, Owner owner, boolean live) {}

    /**
     * Creates the claims of a suite folder for this process.
     *
     * @param out the suite folder
     * @param timeout after how long without heartbeat a claim is stale
     * @param shard this process's shard, recorded in its claims
     * @param log where takeovers are reported
     */
    public RunClaims(Path out, Duration timeout, Shard shard, Consumer<String> log) {
        this.root = out.resolve(DIR);
        this.timeout = timeout;
        ProcessHandle self = ProcessHandle.current();
        this.me =
                new Owner(
                        RunLock.hostName(),
                        self.pid(),
                        RunLock.processStartMillis(self),
                        shard.toString(),
                        null);
        this.log = log;
    }

    /**
     * Returns the state of a run's claim.
     *
     * @param runId the run's id ({@link SuitePlan.Run#id()})
     * @return the state
     * @throws IOException on a read error
     */
    public State state(String runId) throws IOException {
        Path dir = root.resolve(runId);
        int gen = highest(dir);
        if (gen == 0) {
            return new State(0, null, false);
        }
        Path f = file(dir, gen);
        Owner o;
        FileTime beat;
        try {
            beat = Files.getLastModifiedTime(f);
        } catch (NoSuchFileException e) {
            return state(runId);
        }
        try {
            o = JSON.readValue(f.toFile(), Owner.class);
        } catch (IOException e) {
            // created but not yet written (or its writer died right then): live until the timeout
            return new State(gen, null, !Instant.now().isAfter(beat.toInstant().plus(timeout)));
        }
        return new State(gen, o, !stale(o, beat.toInstant()));
    }

    private boolean stale(Owner o, Instant beat) {
        if (Instant.now().isAfter(beat.plus(timeout))) {
            return true;
        }
        if (o.host().equals(me.host())) {
            if (o.pid() == me.pid() && o.pidStart() == me.pidStart()) {
                return false; // this process
            }
            return !RunLock.isRunning(o.pid(), o.pidStart());
        }
        return false;
    }

    /**
     * Takes a run unless another live process holds it.
     *
     * @param runId the run's id
     * @return the held claim, or empty when another process holds the run (or won the race)
     * @throws IOException on a write error
     */
    public Optional<Claim> tryClaim(String runId) throws IOException {
        State s = state(runId);
        if (s.live()) {
            return Optional.empty();
        }
        Path dir = Files.createDirectories(root.resolve(runId));
        int gen = s.generation() + 1;
        Path f = file(dir, gen);
        Owner mine =
                new Owner(me.host(), me.pid(), me.pidStart(), me.shard(), Instant.now().toString());
        try (OutputStream os =
                Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            os.write(
                    JSON.writerWithDefaultPrettyPrinter()
                            .writeValueAsString(mine)
                            .getBytes(StandardCharsets.UTF_8));
        } catch (FileAlreadyExistsException e) {
            return Optional.empty(); // another process took this generation first
        }
        if (s.generation() > 0) {
            log.accept(
                    "claim: took over "
                            + runId
                            + " from "
                            + (s.owner() == null ? "an unreadable claim" : s.owner())
                            + " (generation "
                            + gen
                            + ")");
        }
        return Optional.of(new Claim(f, gen, runId, s.owner()));
    }

    /** A held claim; closing it stops the heartbeat and releases the run. */
    public final class Claim implements AutoCloseable {
        private final Path file;
        private final int generation;
        private final String runId;
        private final Owner previous;
        private final ScheduledExecutorService beat;
        private volatile boolean lost;

        Claim(Path file, int generation, String runId, Owner previous) {
            this.file = file;
            this.generation = generation;
            this.runId = runId;
            this.previous = previous;
            this.beat =
                    Executors.newSingleThreadScheduledExecutor(
                            r -> {
                                Thread t = new Thread(r, "claim-heartbeat");
                                t.setDaemon(true);
                                return t;
                            });
            long period = Math.max(50, timeout.toMillis() / 4);
            beat.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
        }

        private void heartbeat() {
            try {
                if (highest(file.getParent()) != generation) {
                    lost = true;
                    log.accept(
                            "claim: lost "
                                    + runId
                                    + " (another process took it after "
                                    + timeout
                                    + " without heartbeat); its result will not be recorded by this process");
                    beat.shutdown();
                    return;
                }
                Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
            } catch (IOException | RuntimeException e) {
                log.accept("claim: heartbeat of " + runId + " failed: " + e.getMessage());
            }
        }

        /**
         * Whether another process took the run from this one.
         *
         * @return {@code true} when lost
         * @throws IOException on a read error
         */
        public boolean lost() throws IOException {
            return lost || highest(file.getParent()) != generation;
        }

        /**
         * Returns the owner of the stale claim this one replaced.
         *
         * @return the previous owner, or {@code null} for a first claim (or an unreadable one)
         */
        public Owner previous() {
            return previous;
        }

        /**
         * Returns the generation held.
         *
         * @return the generation, from 1
         */
        public int generation() {
            return generation;
        }

        /** Stops the heartbeat and marks the claim stale, so that the run can be taken at once. */
        @Override
        public void close() {
            beat.shutdownNow();
            try {
                if (!lost()) {
                    Files.setLastModifiedTime(file, FileTime.fromMillis(0));
                }
            } catch (IOException e) {
                log.accept("claim: cannot release " + runId + ": " + e.getMessage());
            }
        }
    }

    private static Path file(Path dir, int gen) {
        return dir.resolve("claim-" + gen + ".json");
    }

    private static int highest(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int max = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    max = Math.max(max, Integer.parseInt(m.group(1)));
                }
            }
        }
        return max;
    }

    /**
     * Returns this host's name as crcd-train's run lock records it.
     *
     * @return the host name
     */
    public static String hostName() {
        return RunLock.hostName();
    }
}
