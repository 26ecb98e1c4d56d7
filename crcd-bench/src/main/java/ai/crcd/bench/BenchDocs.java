package ai.crcd.bench;

import ai.crcd.train.run.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Stitches the fragments written by the benchmarks into {@code docs/benchmarks.md}, between the
 * markers {@value #BEGIN} and {@value #END}; the prose around them is kept. The suite's PNG plots
 * are copied to {@code docs/img/}. No number in that section is typed by hand.
 */
@Command(
        name = "docs",
        mixinStandardHelpOptions = true,
        description = "Write the generated section of docs/benchmarks.md from benchmark results.")
public final class BenchDocs implements Callable<Integer> {

    /** Start marker of the generated section. */
    public static final String BEGIN = "<!-- BEGIN GENERATED (scripts/bench.sh docs) -->";

    /** End marker of the generated section. */
    public static final String END = "<!-- END GENERATED -->";

    @Option(
            names = "--suite",
            split = ",",
            description = "suite output folder(s), e.g. runs/bench/fashion-mnist-quick")
    List<Path> suites = new ArrayList<>();

    @Option(
            names = "--step",
            split = ",",
            description = "step benchmark output folder(s), e.g. runs/bench/step")
    List<Path> steps = new ArrayList<>();

    @Option(
            names = "--doc",
            defaultValue = "docs/benchmarks.md",
            description = "default: ${DEFAULT-VALUE}")
    Path doc;

    @Override
    public Integer call() throws IOException {
        AtomicFiles.write(
                doc,
                render(
                        Files.isRegularFile(doc) ? Files.readString(doc) : "",
                        suites,
                        steps,
                        doc.toAbsolutePath().getParent()));
        System.out.println("wrote " + doc);
        return 0;
    }

    /**
     * Replaces (or appends) the generated section of a document.
     *
     * @param existing the document's current text ("" if none)
     * @param suites suite output folders
     * @param steps step benchmark output folders
     * @param docDir the document's folder (plots go to {@code img/} below it)
     * @return the new text
     * @throws IOException if a results folder cannot be read
     */
    public static String render(String existing, List<Path> suites, List<Path> steps, Path docDir)
            throws IOException {
        StringBuilder g = new StringBuilder(BEGIN).append('\n');
        g.append(
                "_This section is written by `scripts/bench.sh docs` from the result folders; do not edit it._\n");
        for (Path s : suites) {
            String name = s.getFileName().toString();
            g.append("\n### Suite `").append(name).append("`\n\n");
            g.append("Command: `scripts/bench.sh ")
                    .append(shortName(name))
                    .append("` (results in `")
                    .append(s)
                    .append("`). Machine: ")
                    .append(machine(s))
                    .append("\n\n");
            g.append(read(s.resolve("table.md"))).append('\n');
            for (Path png : pngs(s)) {
                String target = name + "-" + png.getFileName();
                Files.createDirectories(docDir.resolve("img"));
                Files.copy(
                        png,
                        docDir.resolve("img").resolve(target),
                        StandardCopyOption.REPLACE_EXISTING);
                g.append("![")
                        .append(png.getFileName())
                        .append("](img/")
                        .append(target)
                        .append(")\n");
            }
        }
        for (Path s : steps) {
            g.append("\n### Step time and memory (`").append(s).append("`)\n\n");
            g.append("Machine: ").append(machine(s)).append("\n");
            Path gpu = s.resolve("gpu.txt");
            if (Files.isRegularFile(gpu)) {
                g.append("GPU (nvidia-smi): ").append(Files.readString(gpu).trim()).append("\n");
            }
            List<Path> mds;
            try (Stream<Path> files = Files.list(s)) {
                mds =
                        files.filter(f -> f.getFileName().toString().matches("step-.*\\.md"))
                                .sorted()
                                .toList();
            }
            if (mds.isEmpty()) {
                throw new IllegalArgumentException(
                        s + ": no step-*.md fragment; run scripts/bench.sh step first");
            }
            for (Path md : mds) {
                g.append("\n").append(read(md));
            }
            Path smoke = s.resolve("gpu-smoke.md");
            if (Files.isRegularFile(smoke)) {
                g.append("\n").append(read(smoke));
            }
        }
        g.append(END);
        int b = existing.indexOf(BEGIN);
        int e = existing.indexOf(END);
        if (b >= 0 && e > b) {
            return existing.substring(0, b) + g + existing.substring(e + END.length());
        }
        return existing
                + (existing.isEmpty() || existing.endsWith("\n") ? "" : "\n")
                + "\n"
                + g
                + "\n";
    }

    private static String shortName(String suite) {
        return suite.equals("fashion-mnist-quick")
                ? "quick"
                : suite.equals("cifar100-table5") ? "table5" : suite;
    }

    private static String machine(Path dir) throws IOException {
        Path m = dir.resolve(Machine.FILE);
        return Files.isRegularFile(m) ? Files.readString(m).trim() : "not recorded";
    }

    private static String read(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(
                    f + " does not exist; run the benchmark that writes it first");
        }
        return Files.readString(f);
    }

    private static List<Path> pngs(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".png")).sorted().toList();
        }
    }
}
