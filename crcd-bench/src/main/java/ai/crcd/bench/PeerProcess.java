package ai.crcd.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch peer ({@code crcd-bench/src/main/python/peer_step.py --serve}) as a child process
 * spoken to in JSON lines: one request line on its stdin, one answer line on its stdout. Its stderr
 * goes to a log file, named in every error.
 */
final class PeerProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final Path log;
    private final JsonNode info;

    private PeerProcess(Process process, Path log) throws IOException {
        this.process = process;
        this.log = log;
        this.out =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.info = readLine("start");
    }

    /**
     * Starts the peer and reads its first line (torch version, threads, BLAS).
     *
     * @param command the command, e.g. {@code [python3, peer_step.py, --serve, ...]}
     * @param env extra environment variables of the child
     * @param log the file for the child's stderr
     * @return the running peer
     * @throws IOException if it cannot start or does not answer
     */
    static PeerProcess start(List<String> command, Map<String, String> env, Path log)
            throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(
                    "peer: cannot start '" + command.get(0) + "' (" + e.getMessage() + ")", e);
        }
        return new PeerProcess(p, log);
    }

    /**
     * Returns the peer's first line.
     *
     * @return e.g. {@code {"ready": true, "torch": "1.13.0a0", "threads": 2, "blas": ...}}
     */
    JsonNode info() {
        return info;
    }

    /**
     * Sends one request and reads its answer.
     *
     * @param request the request, e.g. {@code {"cmd": "step", "method": "KD"}}
     * @return the answer
     * @throws IOException if the peer ended or answered no JSON
     */
    JsonNode request(Map<String, Object> request) throws IOException {
        in.write(JSON.writeValueAsString(request));
        in.write('\n');
        in.flush();
        return readLine(String.valueOf(request.get("cmd")));
    }

    private JsonNode readLine(String what) throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new IOException(
                    "peer: the PyTorch peer ended during '"
                            + what
                            + "'; its messages are in "
                            + log
                            + ": "
                            + tail());
        }
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new IOException("peer: not a JSON line from the PyTorch peer: " + line, e);
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(unreadable)";
        }
    }

    @Override
    public void close() {
        try {
            in.write("{\"cmd\": \"quit\"}\n");
            in.flush();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroy();
            }
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
        }
    }
}
