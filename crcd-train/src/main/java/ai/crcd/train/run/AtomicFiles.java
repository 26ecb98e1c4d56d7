package ai.crcd.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Writes files so that a crash never leaves a half-written one: temp file, then rename. When
 * writing fails (a full disk, a read-only folder) the partial temp file is removed, the target
 * keeps its previous content, and the {@link IOException} names the file and, for a full disk, the
 * space the file needs.
 */
public final class AtomicFiles {

    /**
     * Suffix of the temp files ({@code NAME.<random>.tmp}) written next to a target before the
     * rename.
     */
    public static final String TMP_SUFFIX = ".tmp";

    private static final Pattern STALE_TEMP = Pattern.compile(".+\\.[0-9]+\\.tmp");

    private AtomicFiles() {}

    /**
     * Writes bytes to a file atomically.
     *
     * @param file the target
     * @param bytes the content
     * @throws IOException if writing fails; no temp file is left behind
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = null;
        try {
            Files.createDirectories(abs.getParent());
            // a temp name of its own: several processes (suite shards) may write one target at once
            tmp = Files.createTempFile(abs.getParent(), abs.getFileName() + ".", TMP_SUFFIX);
            Files.write(tmp, bytes);
            try {
                // createTempFile makes the file owner-only; results are ordinary files
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep the default
            }
            try {
                Files.move(
                        tmp,
                        abs,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write failure below is what the user needs to see
                }
            }
            throw describe(e, abs, bytes.length);
        }
    }

    /**
     * Deletes the temp files ({@code NAME.<digits>.tmp}) that writes killed midway left directly in
     * a folder. Call it only while no other process writes there, e.g. holding the run folder's
     * lock.
     *
     * @param dir the folder
     * @return how many files were deleted
     * @throws IOException if the folder cannot be listed or a file cannot be deleted
     */
    public static int deleteStaleTemps(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (STALE_TEMP.matcher(f.getFileName().toString()).matches()
                        && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(f);
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Writes text (UTF-8) atomically.
     *
     * @param file the target
     * @param text the content
     * @throws IOException if writing fails; no temp file is left behind
     */
    public static void write(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Puts a completely written folder in place of another: {@code target} is renamed aside to
     * {@code .<name>.old}, {@code tmpDir} renamed to {@code target}, and the old copy deleted. A
     * crash at any point leaves one complete folder: the new one, or the old one under {@code
     * target} or {@code .<name>.old} ({@link #existingDirectory} finds it, and the next call
     * restores it first).
     *
     * @param tmpDir a finished folder on the same file system as {@code target}
     * @param target the folder to replace (need not exist)
     * @throws IOException if a rename fails
     */
    public static void replaceDirectory(Path tmpDir, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path old = abs.resolveSibling("." + abs.getFileName() + ".old");
        if (!Files.exists(abs) && Files.isDirectory(old)) {
            move(old, abs); // an earlier replacement crashed between its two renames
        }
        deleteRecursively(old);
        if (Files.exists(abs)) {
            move(abs, old);
        }
        move(tmpDir.toAbsolutePath(), abs);
        deleteRecursively(old);
    }

    /**
     * Returns the folder {@link #replaceDirectory} maintains at {@code target}: {@code target}
     * itself, or its complete previous copy if a replacement was interrupted.
     *
     * @param target the folder
     * @return the folder to read ({@code target} when neither exists)
     */
    public static Path existingDirectory(Path target) {
        Path abs = target.toAbsolutePath();
        Path old = abs.resolveSibling("." + abs.getFileName() + ".old");
        return !Files.exists(abs) && Files.isDirectory(old) ? old : target;
    }

    /**
     * Deletes a file or a folder with everything in it; nothing happens if it does not exist.
     *
     * @param path the file or folder
     * @throws IOException if deleting fails
     */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /**
     * Describes a failed write of something other than one file (e.g. a model folder) in the words
     * of {@link #write}: one line naming it and what to do; a full disk says how much space is
     * needed.
     *
     * @param e the failure
     * @param target what was being written
     * @param size about how many bytes it needs
     * @return the exception to throw
     */
    public static IOException writeFailure(IOException e, Path target, long size) {
        return describe(e, target.toAbsolutePath(), size);
    }

    /** One line naming the file and what to do; a full disk says how much space is needed. */
    private static IOException describe(IOException e, Path file, long size) {
        String msg = String.valueOf(e.getMessage());
        long usable = -1;
        try {
            FileStore store = Files.getFileStore(file.getParent());
            usable = store.getUsableSpace();
        } catch (IOException | RuntimeException ignored) {
            // unknown free space
        }
        boolean full =
                msg.toLowerCase(Locale.ROOT).contains("no space left")
                        || msg.toLowerCase(Locale.ROOT).contains("disk quota")
                        || (usable >= 0 && usable < size);
        if (full) {
            return new IOException(
                    file
                            + ": cannot write "
                            + bytes(size)
                            + ", the disk is full ("
                            + (usable >= 0 ? bytes(usable) + " free" : "no space left")
                            + " on "
                            + file.getParent()
                            + "); free at least "
                            + bytes(size)
                            + " there or choose another output.dir, then rerun with --resume"
                            + " (the previous "
                            + file.getFileName()
                            + " is intact)",
                    e);
        }
        return new IOException(
                file + ": cannot write (" + msg.replaceAll("\\s+", " ").trim() + ")", e);
    }

    /**
     * Formats a byte count for people, e.g. {@code 3.1 MB}.
     *
     * @param n bytes
     * @return the text
     */
    public static String bytes(double n) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
        int u = 0;
        while (n >= 1000 && u < units.length - 1) {
            n /= 1000;
            u++;
        }
        return u == 0
                ? String.format(Locale.ROOT, "%.0f %s", n, units[u])
                : String.format(Locale.ROOT, "%.1f %s", n, units[u]);
    }
}
