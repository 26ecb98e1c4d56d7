package ai.crcd.bench;

import ai.crcd.bench.suite.MethodSpec;
import ai.crcd.core.DistillBatch;
import ai.crcd.core.DistillSetup;
import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.Distillers;
import ai.crcd.core.StudentWithAuxiliary;
import ai.crcd.core.training.DistillStep;
import ai.crcd.core.training.StepResult;
import ai.crcd.train.optim.MultiStepSchedule;
import ai.crcd.train.optim.PyTorchSgd;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.List;

/**
 * One method set up for crcd's one training step ({@link DistillStep}, the step crcd-train runs): a
 * frozen teacher forward in inference mode, the student (with the distiller's auxiliary block under
 * one parent) forward and backward on cross-entropy plus the distiller's terms, a PyTorch-style SGD
 * update of every trained parameter, then {@link Distiller#afterStep(DistillBatch)}. This class
 * only builds the step; it has no step of its own.
 *
 * <p>Each rig owns its student, auxiliary block, optimiser state and distiller buffers; rigs share
 * the teacher.
 */
public final class StepRig implements AutoCloseable {

    private final MethodSpec method;
    private final Distiller distiller;
    private final DistillStep step;

    /**
     * Builds the rig.
     *
     * @param root the long-lived manager (parameters, buffers)
     * @param teacher the initialised, frozen teacher
     * @param student a fresh student network (initialised here)
     * @param method the method: distiller name, options and cross-entropy weight
     * @param inShape the input shape with batch 1, e.g. (1, 3, 32, 32)
     * @param datasetLabels the training set's labels (their count is the data set size)
     * @param seed the distiller's seed
     * @param lr the SGD learning rate
     */
    public StepRig(
            NDManager root,
            DistillableNetwork teacher,
            DistillableNetwork student,
            MethodSpec method,
            Shape inShape,
            int[] datasetLabels,
            long seed,
            double lr) {
        this.method = method;
        student.initialize(root, DataType.FLOAT32, inShape);
        this.distiller =
                Distillers.create(
                        method.method(),
                        new DistillerOptions(
                                "methods[" + method.label() + "].options", method.options()));
        distiller.initialize(
                root,
                DistillSetup.builder()
                        .setFeatureDims(teacher.featureDim(), student.featureDim())
                        .setNumClasses(student.numClasses())
                        .optDatasetLabels(datasetLabels)
                        .optSeed(seed)
                        .optOutputShapes(
                                List.of(teacher.getOutputShapes(new Shape[] {inShape})),
                                List.of(student.getOutputShapes(new Shape[] {inShape})))
                        .build());
        PyTorchSgd optimizer =
                PyTorchSgd.builder()
                        .setSchedule(new MultiStepSchedule(lr, List.of(), 0.1))
                        .optMomentum(0.9)
                        .optWeightDecay(5e-4)
                        .build();
        this.step =
                DistillStep.builder()
                        .setNetwork(new StudentWithAuxiliary(student, distiller.auxiliaryBlock()))
                        .setManager(root)
                        .optTeacher(teacher, distiller)
                        .optCeWeight(method.ceWeight())
                        .optOptimizer(optimizer)
                        .build();
    }

    /**
     * Returns the method.
     *
     * @return the method
     */
    public MethodSpec method() {
        return method;
    }

    /**
     * Runs one training step ({@link DistillStep#train}) and waits for it (the loss terms are read
     * back).
     *
     * @param x (B, C, H, W) images in a per-step manager
     * @param y (B) int64 labels
     * @param indices (B) int64 sample indices
     * @return the weighted loss terms in {@link #termNames()} order ("ce" first)
     */
    public float[] step(NDArray x, NDArray y, NDArray indices) {
        StepResult r = step.train(x, y, indices);
        return r.terms().toFloatArray();
    }

    /**
     * Returns the names of the loss terms returned by {@link #step}, known after the first step.
     *
     * @return the names, or {@code null} before the first step
     */
    public List<String> termNames() {
        return step.termNames();
    }

    /**
     * Returns the bytes held by the distiller's non-parameter state (buffers, memory banks).
     *
     * @return bytes
     */
    public long stateBytes() {
        long sum = 0;
        for (NDArray a : distiller.state()) {
            sum += bytes(a);
        }
        return sum;
    }

    /**
     * Returns the bytes of the auxiliary block's parameters (embeddings, relation networks,
     * critics).
     *
     * @return bytes
     */
    public long auxParamBytes() {
        Block aux = distiller.auxiliaryBlock();
        long sum = 0;
        if (aux != null) {
            for (Pair<String, Parameter> p : aux.getParameters()) {
                if (p.getValue().isInitialized()) {
                    sum += bytes(p.getValue().getArray());
                }
            }
        }
        return sum;
    }

    private static long bytes(NDArray a) {
        return a.getShape().size() * a.getDataType().getNumOfBytes();
    }

    @Override
    public void close() {
        distiller.close();
    }
}
