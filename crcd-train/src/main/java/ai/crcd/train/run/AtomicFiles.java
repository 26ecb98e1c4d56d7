package ai.crcd.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes files so that a crash never leaves a half-written one: temp file, then rename. */
public final class AtomicFiles {

    private AtomicFiles() {}

    /**
     * Writes bytes to a file atomically.
     *
     * @param file the target
     * @param bytes the content
     * @throws IOException if writing fails
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(
                    tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Writes text (UTF-8) atomically.
     *
     * @param file the target
     * @param text the content
     * @throws IOException if writing fails
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
}
