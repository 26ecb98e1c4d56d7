package ai.crcd.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folder replacement: a complete folder is always found, also after an interrupted swap. */
class AtomicFilesTest {

    private static Path folder(Path dir, String content) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("f"), content);
        return dir;
    }

    @Test
    void replacesAFolderAndRecoversFromAnInterruptedSwap(@TempDir Path tmp) throws Exception {
        Path target = tmp.resolve("model");
        AtomicFiles.replaceDirectory(folder(tmp.resolve("a"), "1"), target);
        assertEquals("1", Files.readString(target.resolve("f")));
        AtomicFiles.replaceDirectory(folder(tmp.resolve("b"), "2"), target);
        assertEquals("2", Files.readString(target.resolve("f")));
        assertFalse(Files.exists(tmp.resolve(".model.old")));
        assertFalse(Files.exists(tmp.resolve("a")));

        // a crash between the two renames: only .model.old holds the complete folder
        Files.move(target, tmp.resolve(".model.old"));
        assertEquals(
                tmp.resolve(".model.old").toAbsolutePath(), AtomicFiles.existingDirectory(target));
        assertEquals("2", Files.readString(AtomicFiles.existingDirectory(target).resolve("f")));
        AtomicFiles.replaceDirectory(folder(tmp.resolve("c"), "3"), target);
        assertEquals("3", Files.readString(target.resolve("f")));
        assertFalse(Files.exists(tmp.resolve(".model.old")));
        assertEquals(target, AtomicFiles.existingDirectory(target));
    }

    @Test
    void aWriteUsesATempOfItsOwnAndStaleTempsOfKilledWritesAreDeleted(@TempDir Path tmp)
            throws Exception {
        Path target = tmp.resolve("checkpoint.ckpt");
        AtomicFiles.write(target, "one");
        AtomicFiles.write(target, "two");
        assertEquals("two", Files.readString(target));
        try (var left = Files.list(tmp)) {
            assertEquals(1, left.count(), "only the target remains after two writes");
        }
        // what kill -9 during two writes leaves, beside files that must stay
        Files.writeString(tmp.resolve("checkpoint.ckpt.8120394857.tmp"), "half");
        Files.writeString(tmp.resolve("metrics.csv.77.tmp"), "half");
        Files.writeString(tmp.resolve("notes.tmp"), "a user's file");
        Files.createDirectories(tmp.resolve("model.12.tmp"));
        assertEquals(2, AtomicFiles.deleteStaleTemps(tmp));
        assertFalse(Files.exists(tmp.resolve("checkpoint.ckpt.8120394857.tmp")));
        assertFalse(Files.exists(tmp.resolve("metrics.csv.77.tmp")));
        assertEquals("a user's file", Files.readString(tmp.resolve("notes.tmp")));
        assertEquals(true, Files.isDirectory(tmp.resolve("model.12.tmp")));
        assertEquals("two", Files.readString(target));
    }
}
