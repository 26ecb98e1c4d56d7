package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.run.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures of the command line that used to end in a stack trace or a multi-line message (issue 11,
 * items 8 and 9): each is one line on stderr, the right exit status, and nothing is created.
 */
class FailureLinesTest {

    @TempDir Path dir;

    /** Exit status and stderr of one command. */
    private record Outcome(int code, String err, String out) {
        void isOneLine(int expected, String... parts) {
            assertEquals(expected, code, err);
            String text = err.strip();
            assertEquals(1, text.lines().count(), text);
            assertFalse(text.contains("\tat "), text);
            for (String p : parts) {
                assertTrue(text.contains(p), "expected '" + p + "' in: " + text);
            }
        }
    }

    private static Outcome run(String... args) {
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
        return new Outcome(
                code, err.toString(StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8));
    }

    private Path config(String outDir) throws IOException {
        return Files.writeString(
                dir.resolve("c.yaml"),
                "kind: train\nmodel: {name: resnet8}\n"
                        + "data: {name: synthetic, batch_size: 8, synthetic: {train_size: 16,"
                        + " test_size: 8, classes: 2, channels: 1, size: 8}}\n"
                        + "optim: {epochs: 1, milestones: []}\n"
                        + "output: {dir: '"
                        + outDir
                        + "'}\n");
    }

    @Test
    void outputDirUnderAFileIsOneLineAndCreatesNothing() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        Path cfg = config(file.resolve("run").toString());
        run("train", "--config", cfg.toString())
                .isOneLine(2, "output.dir", file.toString(), "is a file");
        assertTrue(Files.isRegularFile(file));
        run("validate", "--check-files", "--config", cfg.toString())
                .isOneLine(2, "output.dir", "is a file");
    }

    @Test
    void outputDirEqualToAFileIsOneLine() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        run("train", "--config", config(file.toString()).toString())
                .isOneLine(2, "output.dir", "is a file");
        assertEquals("x", Files.readString(file));
    }

    @Test
    void validateCheckFilesReportsTheRunFolder() throws IOException {
        Path out = dir.resolve("runs/a");
        Outcome o = run("validate", "--check-files", "--config", config(out.toString()).toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("will be created"), o.out());
        Files.createDirectories(out);
        Files.writeString(out.resolve("checkpoint.ckpt"), "x");
        o = run("validate", "--check-files", "--config", config(out.toString()).toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("holds a run"), o.out());
        assertTrue(o.out().contains("--resume"), o.out());
    }

    @Test
    void duplicateKeyIsRejectedWithItsLine() throws IOException {
        Path cfg =
                Files.writeString(
                        dir.resolve("dup.yaml"), "kind: train\noptim:\n  lr: 0.1\n  lr: 0.2\n");
        run("validate", "--config", cfg.toString())
                .isOneLine(2, cfg + ":4:", "duplicate key 'optim.lr'");
    }

    @Test
    void malformedYamlIsOneLineWithLineAndColumn() throws IOException {
        Path cfg =
                Files.writeString(
                        dir.resolve("bad.yaml"), "kind: train\noptim: {lr: 0.1\n  epochs: [\n");
        run("validate", "--config", cfg.toString()).isOneLine(2, cfg + ":3:9: not valid YAML");
    }

    @Test
    void nanNamesTheKeyThatNeedsAFiniteNumber() throws IOException {
        Path cfg = Files.writeString(dir.resolve("nan.yaml"), "kind: train\noptim: {lr: .nan}\n");
        run("validate", "--config", cfg.toString())
                .isOneLine(2, "optim.lr: got '.nan', allowed: a finite number");
        Path ok = Files.writeString(dir.resolve("ok.yaml"), "kind: train\n");
        run("validate", "--config", ok.toString(), "--set", "optim.momentum=-.inf")
                .isOneLine(2, "optim.momentum", "a finite number");
    }

    @Test
    void badCommandLineIsOneLine() throws IOException {
        run("validate", "--config", "c.yaml", "--bogus").isOneLine(2, "--bogus", "--help");
        run("frobnicate").isOneLine(2, "frobnicate");
    }

    @Test
    void unexpectedExceptionIsOneLineWithALogFile() throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path run = Files.createDirectories(dir.resolve("run"));
        int code =
                Failures.report(
                        new IllegalStateException("boom\nsecond line"),
                        run,
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = err.toString(StandardCharsets.UTF_8).strip();
        assertEquals(2, code);
        assertEquals(1, text.lines().count(), text);
        Path log = run.resolve(Failures.LOG_FILE).toAbsolutePath();
        assertTrue(text.contains("IllegalStateException: boom"), text);
        assertTrue(text.endsWith("(full stack trace in " + log + ")"), text);
        String trace = Files.readString(log);
        assertTrue(trace.contains("second line") && trace.contains("\tat "), trace);

        // without a run folder the trace goes to a temp file
        err.reset();
        Failures.report(
                new IllegalStateException("x"),
                dir.resolve("absent"),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String line = err.toString(StandardCharsets.UTF_8).strip();
        String path = line.substring(line.indexOf("full stack trace in ") + 20, line.length() - 1);
        assertTrue(Files.readString(Path.of(path)).contains("IllegalStateException"), line);
        Files.delete(Path.of(path));
    }

    @Test
    void failedAtomicWriteLeavesNoTempFileAndNamesTheFile() throws IOException {
        // the target is a non-empty folder: the temp file is written, the rename fails
        Path target = Files.createDirectories(dir.resolve("checkpoint.ckpt"));
        Files.writeString(target.resolve("inside"), "x");
        IOException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        IOException.class, () -> AtomicFiles.write(target, new byte[1000]));
        assertTrue(
                e.getMessage().startsWith(target.toAbsolutePath() + ": cannot write"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        try (var left = Files.list(dir)) {
            List<String> temps =
                    left.map(f -> f.getFileName().toString())
                            .filter(n -> n.endsWith(AtomicFiles.TMP_SUFFIX))
                            .toList();
            assertEquals(List.of(), temps, "temp files left behind");
        }
    }
}
