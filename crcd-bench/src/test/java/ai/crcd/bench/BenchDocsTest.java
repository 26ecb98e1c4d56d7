package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The docs generator keeps the prose and replaces only the generated section. */
class BenchDocsTest {

    @TempDir Path tmp;

    @Test
    void replacesGeneratedSectionAndCopiesPlots() throws Exception {
        Path suite = Files.createDirectories(tmp.resolve("runs/fashion-mnist-quick"));
        Files.writeString(suite.resolve("table.md"), "| row | x |\n");
        Files.writeString(suite.resolve("machine.md"), "nproc 2\n");
        Files.write(suite.resolve("accuracy.png"), new byte[] {1, 2, 3});
        Path step = Files.createDirectories(tmp.resolve("runs/step"));
        Files.writeString(step.resolve("step-cpu-b64.md"), "| KD | 10.0 |\n");
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        String prose =
                "# Benchmarks\n\nIntro.\n\n"
                        + BenchDocs.BEGIN
                        + "\nold numbers\n"
                        + BenchDocs.END
                        + "\n\nOutro.\n";

        String out = BenchDocs.render(prose, List.of(suite), List.of(step), docs);
        assertTrue(out.startsWith("# Benchmarks\n\nIntro.\n\n" + BenchDocs.BEGIN), out);
        assertTrue(out.endsWith(BenchDocs.END + "\n\nOutro.\n"), out);
        assertTrue(!out.contains("old numbers"), out);
        assertTrue(
                out.contains("`scripts/bench.sh quick`") && out.contains("Machine: nproc 2"), out);
        assertTrue(out.contains("| row | x |") && out.contains("| KD | 10.0 |"), out);
        assertTrue(out.contains("![accuracy.png](img/fashion-mnist-quick-accuracy.png)"), out);
        assertEquals(3, Files.size(docs.resolve("img/fashion-mnist-quick-accuracy.png")));
        // idempotent
        assertEquals(out, BenchDocs.render(out, List.of(suite), List.of(step), docs));
    }
}
