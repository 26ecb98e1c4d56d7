package ai.crcd.train.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.crcd.train.RunResult;
import ai.crcd.train.TrainingRun;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.data.DataSets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the README's DJL example program for a few batches: a resnet8 teacher trained by crcd (one
 * epoch on a Fashion-MNIST subset), then {@code DistillFashionMnist} distils a student with {@code
 * EasyTrain.fit}, exactly as the README calls it.
 */
class DistillFashionMnistTest {

    @TempDir Path tmp;

    @Test
    void exampleDistilsAStudentFromACrcdTeacher() throws Exception {
        assumeTrue(
                Files.isRegularFile(
                        DataSets.FASHION_MNIST_DIR.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed in " + DataSets.FASHION_MNIST_DIR);
        Path teacherDir = tmp.resolve("teacher");
        RunConfig cfg =
                ConfigLoader.fromString(
                        "kind: train\nseed: 1\n"
                                + "data: {name: fashion-mnist, subset_per_class: 20,"
                                + " test_subset_per_class: 10, batch_size: 50}\n"
                                + "model: {name: resnet8}\n"
                                + "optim: {lr: 0.05, epochs: 1, milestones: []}\n"
                                + "output: {dir: "
                                + teacherDir
                                + "}\n",
                        List.of());
        RunResult teacher = TrainingRun.execute(cfg, teacherDir, false);
        assertEquals(1, teacher.history().size());

        Path out = tmp.resolve("student");
        DistillFashionMnist.main(
                new String[] {
                    teacherDir.toString(),
                    out.toString(),
                    "method=crcd",
                    "student=resnet8",
                    "epochs=1",
                    "per_class=20",
                    "max_batches=2",
                    "option.negatives=32"
                });
        // DJL's SaveModelTrainingListener wrote the student after the epoch
        assertTrue(Files.isRegularFile(out.resolve("student-0001.params")), "saved student");
    }
}
