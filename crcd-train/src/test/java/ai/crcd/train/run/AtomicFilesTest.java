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
}
