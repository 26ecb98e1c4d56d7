package ai.crcd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.ImageNetFolders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data.name: imagenet-folder} through the real training loop: ResNet18 (torchvision layout)
 * on a generated JPEG folder (5 classes, 240 training images, 32x32 crops) trains, its loss falls;
 * a 1-epoch CRD+KD distillation from it runs (sample indices reach CRD's memory bank); a bad option
 * or a missing folder is one line.
 */
class ImageNetRunTest {

    @TempDir Path tmp;

    private static String data(Path root) {
        return "data: {name: imagenet-folder, root: "
                + root
                + ", batch_size: 24,"
                + " test_batch_size: 30, options: {crop: 32, resize: 36, threads: 2}}\n";
    }

    @Test
    void resnet18TrainsOnAStreamedFolderAndDistills() throws IOException {
        Path root = tmp.resolve("imagenet");
        ImageNetFolders.write(root, 5, 48, 6, 40, 11);
        Path dir = tmp.resolve("run");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nseed: 1\ndevice: cpu\n"
                                + data(root)
                                + "model: {name: resnet18}\n"
                                + "optim: {lr: 0.01, momentum: 0.9, weight_decay: 0.0001,"
                                + " epochs: 4, milestones: [10]}\n"
                                + "output: {dir: "
                                + dir
                                + ", log_interval: 5}\n",
                        List.of(),
                        Catalog.standard());
        RunResult r = TrainingRun.execute(cfg, dir, false, Catalog.standard());
        assertEquals(4, r.history().size());
        double first = r.history().get(0).trainLoss();
        double last = r.history().get(3).trainLoss();
        // falls clearly (0.586 -> 0.309 in 4 epochs, channels-last; the top-1 check is the strict
        // one)
        assertTrue(last < 0.6 * first, "train loss " + first + " -> " + last);
        assertTrue(r.lastTop1() >= 60, "val top-1 (chance 20): " + r.lastTop1());
        Path params = dir.resolve(TrainingRun.MODEL_FILE);
        assertTrue(Files.isRegularFile(params));

        Path kd = tmp.resolve("crd");
        RunConfig d =
                ConfigLoader.fromString(
                        "kind: distill\nseed: 2\ndevice: cpu\n"
                                + data(root)
                                + "model: {name: resnet18}\n"
                                + "teacher: {name: resnet18, checkpoint: "
                                + params
                                + "}\n"
                                + "optim: {lr: 0.05, epochs: 1, milestones: [10]}\n"
                                + "distill: {method: crd_kd, options: {alpha: 1.0, beta: 0.8,"
                                + " nce_k: 64}}\n"
                                + "output: {dir: "
                                + kd
                                + ", log_interval: 5}\n",
                        List.of(),
                        Catalog.standard());
        RunResult dr = TrainingRun.execute(d, kd, false, Catalog.standard());
        assertEquals(1, dr.history().size());
        assertTrue(Double.isFinite(dr.history().get(0).trainLoss()));
        assertTrue(
                dr.history().get(0).trainTerms().keySet().stream().anyMatch(k -> k.contains("crd")),
                dr.history().get(0).trainTerms().toString());
    }

    @Test
    void badOptionOrMissingFolderIsOneLine() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.fromString(
                                        "kind: train\nmodel: {name: resnet18}\ndata: {name: imagenet-folder,"
                                                + " options: {crop: 0}}\n",
                                        List.of(),
                                        Catalog.standard()));
        assertEquals(
                "<config>: data.options.crop: got '0', allowed: an integer >= 1", e.getMessage());
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nmodel: {name: resnet18}\ndata: {name: imagenet-folder, root: "
                                + tmp.resolve("none")
                                + "}\n",
                        List.of(),
                        Catalog.standard());
        e =
                assertThrows(
                        ConfigException.class,
                        () -> Catalog.standard().openSplits(cfg.data, 1, null));
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(
                e.getMessage()
                        .contains(tmp.resolve("none").resolve("train") + ": folder not found"),
                e.getMessage());
    }
}
