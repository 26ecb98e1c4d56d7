package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.data.IdxFormat;
import ai.crcd.train.model.ModelFolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Fashion-MNIST-layout distillation from the command line with a PyTorch-made teacher
 * (make_fixtures.py: RepDistiller's resnet8 for 1x28x28 input, 10 classes, saved as {@code
 * {'model': state_dict, 'epoch': 1}}): given directly as {@code teacher.checkpoint: x.pth}, and
 * converted first by {@code crcd-train import}. Both runs must train the same student bit for bit,
 * so the .pth path loads exactly what the import writes (whose values TorchImportTest checks
 * against PyTorch's logits).
 */
class ImportedTeacherDistillTest {

    @TempDir Path tmp;

    @Test
    void distilsFromAPthTeacherAndFromItsImport() throws IOException {
        Path data = tmp.resolve("fashion");
        writeIdx(data, true, 40);
        writeIdx(data, false, 20);
        Path pth = tmp.resolve("fashion_resnet8.pth");
        try (InputStream in =
                getClass().getResourceAsStream("/torch-fixtures/fashion_resnet8.pth")) {
            Files.copy(in, pth);
        }

        String[] out = new String[1];
        int code =
                capture(
                        out,
                        "import",
                        "--from",
                        pth.toString(),
                        "--model",
                        "resnet8",
                        "--out",
                        tmp.resolve("imported").toString());
        assertEquals(0, code, out[0]);
        assertTrue(
                out[0].contains("imported resnet8 (10 classes, 1 input channel, 47 tensors)"),
                out[0]);
        Path params = tmp.resolve("imported").resolve(ImportCommand.PARAMS_FILE);
        assertTrue(Files.isRegularFile(params));
        assertTrue(ModelFolder.isModelFolder(tmp.resolve("imported")), "a DJL model folder too");

        Path runPth = tmp.resolve("run-pth");
        Path runParams = tmp.resolve("run-params");
        assertEquals(
                0,
                Main.run("distill", "--config", config(data, pth, runPth, "resnet8").toString()));
        assertEquals(
                0,
                Main.run(
                        "distill",
                        "--config",
                        config(data, params, runParams, "resnet8").toString()));
        assertArrayEquals(
                Files.readAllBytes(runParams.resolve(TrainingRun.MODEL_FILE)),
                Files.readAllBytes(runPth.resolve(TrainingRun.MODEL_FILE)),
                "the student distilled from the .pth equals the one from its import");
        Path runFolder = tmp.resolve("run-folder");
        assertEquals(
                0,
                Main.run(
                        "distill",
                        "--config",
                        config(data, tmp.resolve("imported"), runFolder, "resnet8").toString()));
        assertArrayEquals(
                Files.readAllBytes(runFolder.resolve(TrainingRun.MODEL_FILE)),
                Files.readAllBytes(runPth.resolve(TrainingRun.MODEL_FILE)),
                "the student distilled from the imported model folder equals the others");

        // the wrong teacher.name for the file: one line naming the first missing tensor
        Path bad = config(data, pth, tmp.resolve("run-bad"), "resnet14");
        String[] err = new String[1];
        code = captureErr(err, "distill", "--config", bad.toString());
        assertEquals(2, code, err[0]);
        assertEquals(1, err[0].trim().lines().count(), err[0]);
        assertTrue(
                err[0].startsWith(
                        "config error: teacher.checkpoint: "
                                + pth
                                + ": missing tensor 'layer1.1.conv1.weight'"),
                err[0]);
        assertFalse(Files.exists(tmp.resolve("run-bad").resolve(TrainingRun.MODEL_FILE)));
    }

    @Test
    void importErrorsAreOneLineAndLeaveNothing() throws IOException {
        Path pth = tmp.resolve("fashion_resnet8.pth");
        try (InputStream in =
                getClass().getResourceAsStream("/torch-fixtures/fashion_resnet8.pth")) {
            Files.copy(in, pth);
        }
        Path out = tmp.resolve("out");
        String[] err = new String[1];
        int code =
                captureErr(
                        err,
                        "import",
                        "--from",
                        pth.toString(),
                        "--model",
                        "resnet8",
                        "--classes",
                        "7",
                        "--out",
                        out.toString());
        assertEquals(2, code, err[0]);
        assertEquals(
                "config error: import: "
                        + pth
                        + ": tensor 'fc.weight' has shape (10, 64), crcd's resnet8 expects (7, 64)"
                        + " (another class count (--classes / data set), input channels or model?)",
                err[0].trim());
        assertFalse(Files.exists(out), "a failed import leaves no folder");

        code =
                captureErr(
                        err,
                        "import",
                        "--from",
                        pth.toString(),
                        "--model",
                        "resnet9",
                        "--out",
                        out.toString());
        assertEquals(2, code, err[0]);
        assertTrue(
                err[0].startsWith("config error: import --model: unknown model 'resnet9'"), err[0]);
        assertFalse(Files.exists(out));
    }

    private Path config(Path data, Path teacher, Path out, String teacherName) throws IOException {
        String yaml =
                "kind: distill\n"
                        + "seed: 3\n"
                        + "data: {name: fashion-mnist, root: "
                        + data
                        + ", augment: false,"
                        + " batch_size: 8, test_batch_size: 20}\n"
                        + "model: {name: resnet8}\n"
                        + "teacher: {name: "
                        + teacherName
                        + ", checkpoint: "
                        + teacher
                        + "}\n"
                        + "optim: {lr: 0.05, epochs: 1, milestones: [1]}\n"
                        + "distill: {method: kd, options: {alpha: 0.9, temperature: 4}}\n"
                        + "output: {dir: "
                        + out
                        + ", progress_seconds: 0}\n";
        return Files.writeString(tmp.resolve(out.getFileName() + ".yaml"), yaml);
    }

    /** Writes a gzip'd IDX split of n random 28x28 images with labels 0..9. */
    private static void writeIdx(Path dir, boolean train, int n) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(train ? 1 : 2);
        ByteBuffer img = ByteBuffer.allocate(16 + n * 28 * 28);
        img.putInt(IdxFormat.IMAGES_MAGIC).putInt(n).putInt(28).putInt(28);
        ByteBuffer lab = ByteBuffer.allocate(8 + n);
        lab.putInt(IdxFormat.LABELS_MAGIC).putInt(n);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < 28 * 28; p++) {
                img.put((byte) r.nextInt(256));
            }
            lab.put((byte) (i % 10));
        }
        gzip(IdxFormat.file(dir, train, true), img.array());
        gzip(IdxFormat.file(dir, train, false), lab.array());
    }

    private static void gzip(Path file, byte[] bytes) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(file))) {
            o.write(bytes);
        }
    }

    private static int capture(String[] out, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            return Main.run(args);
        } finally {
            System.setOut(old);
            out[0] = buf.toString();
        }
    }

    private static int captureErr(String[] err, String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            return Main.run(args);
        } finally {
            System.setErr(old);
            err[0] = buf.toString();
        }
    }
}
