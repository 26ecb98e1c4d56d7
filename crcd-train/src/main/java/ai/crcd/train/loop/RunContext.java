package ai.crcd.train.loop;

import ai.crcd.core.Distiller;
import ai.crcd.core.training.DistillStep;
import ai.crcd.train.Catalog;
import ai.crcd.train.EpochMetrics;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.optim.MultiStepSchedule;
import ai.crcd.train.optim.PyTorchSgd;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the stages and listeners of one run share: the config, the run folder, the device, the one
 * {@link DistillStep}, the optimiser, the data, the history. Built by {@link RunSetup}.
 */
public final class RunContext {

    final RunConfig cfg;
    final Path dir;
    final Device device;
    final NDManager root;
    Catalog.Split train;
    Catalog.Split test;
    int classes;
    DistillStep step;
    Distiller distiller;
    PyTorchSgd optimizer;
    MultiStepSchedule schedule;
    List<Pair<String, Parameter>> trained;
    int startEpoch;
    long globalStep;
    final List<EpochMetrics> history = new ArrayList<>();
    PyTorchSgd initOptimizer;
    int initStartEpoch;
    final List<EpochMetrics> initHistory = new ArrayList<>();
    final Map<String, String> summaryLines = new LinkedHashMap<>();

    RunContext(RunConfig cfg, Path dir, Device device, NDManager root) {
        this.cfg = cfg;
        this.dir = dir;
        this.device = device;
        this.root = root;
    }

    /**
     * Returns the validated config.
     *
     * @return the config
     */
    public RunConfig config() {
        return cfg;
    }

    /**
     * Returns the run folder.
     *
     * @return the folder
     */
    public Path dir() {
        return dir;
    }

    /**
     * Returns the device the run trains on.
     *
     * @return the device
     */
    public Device device() {
        return device;
    }

    /**
     * Returns the run's long-lived manager.
     *
     * @return the manager
     */
    public NDManager manager() {
        return root;
    }

    /**
     * Returns the one training step (network, teacher, distiller).
     *
     * @return the step
     */
    public DistillStep step() {
        return step;
    }

    /**
     * Returns the run's distiller (for plain training: {@code vanilla}, without terms).
     *
     * @return the distiller
     */
    public Distiller distiller() {
        return distiller;
    }

    /**
     * Returns the optimiser (its momentum buffers go into checkpoints).
     *
     * @return the optimiser
     */
    public PyTorchSgd optimizer() {
        return optimizer;
    }

    /**
     * Returns the learning-rate schedule.
     *
     * @return the schedule
     */
    public MultiStepSchedule schedule() {
        return schedule;
    }

    /**
     * Returns the trained parameters by path (student and auxiliary block).
     *
     * @return the parameters
     */
    public List<Pair<String, Parameter>> trainedParameters() {
        return trained;
    }

    /**
     * Returns the training split.
     *
     * @return the split
     */
    public Catalog.Split train() {
        return train;
    }

    /**
     * Returns the test split.
     *
     * @return the split
     */
    public Catalog.Split test() {
        return test;
    }

    /**
     * Returns the class count.
     *
     * @return C
     */
    public int classes() {
        return classes;
    }

    /**
     * Returns the first epoch this process trains (0, or the epochs done by a resumed run).
     *
     * @return the epoch, from 0
     */
    public int startEpoch() {
        return startEpoch;
    }

    /**
     * Returns the optimiser steps taken so far.
     *
     * @return the global step
     */
    public long globalStep() {
        return globalStep;
    }

    /**
     * Returns the metrics of the completed epochs (incl. those of a resumed run).
     *
     * @return an unmodifiable view
     */
    public List<EpochMetrics> history() {
        return Collections.unmodifiableList(history);
    }

    /**
     * Returns whether the run distils (has a teacher).
     *
     * @return {@code true} for kind: distill
     */
    public boolean distill() {
        return "distill".equals(cfg.kind);
    }

    /**
     * Returns the optimiser of the method's init stage (a fresh SGD with a constant learning rate).
     *
     * @return the optimiser, or {@code null} for a method without an init stage
     */
    public PyTorchSgd initOptimizer() {
        return initOptimizer;
    }

    /**
     * Returns the number of epochs of the method's init stage ({@code Distiller.initStage()}).
     *
     * @return the epochs, 0 without an init stage
     */
    public int initEpochs() {
        return step.initStage().map(s -> s.epochs()).orElse(0);
    }

    /**
     * Returns the first init epoch this process trains (0, the init epochs done by a resumed run,
     * or {@link #initEpochs()} once the main stage has begun).
     *
     * @return the init epoch, from 0
     */
    public int initStartEpoch() {
        return initStartEpoch;
    }

    /**
     * Returns the metrics of the completed init epochs (test columns NaN).
     *
     * @return an unmodifiable view
     */
    public List<EpochMetrics> initHistory() {
        return Collections.unmodifiableList(initHistory);
    }

    /**
     * Returns whether the run is in the method's init stage (step-level listener calls then carry
     * the init epoch).
     *
     * @return true during the init stage
     */
    public boolean inInitStage() {
        return step.inInitStage();
    }

    /**
     * Returns the run's label, e.g. {@code distill crcd} or {@code train resnet20}.
     *
     * @return the label
     */
    public String label() {
        return distill() ? "distill " + cfg.distill.method : "train " + cfg.model.name;
    }

    /**
     * Returns the title of plots and the summary.
     *
     * @return the title
     */
    public String title() {
        return label() + " (" + cfg.model.name + " on " + cfg.data.name + ")";
    }

    /**
     * Returns extra lines of the summary (name, value), e.g. the teacher's accuracy; listeners may
     * add to it.
     *
     * @return the mutable map
     */
    public Map<String, String> summaryLines() {
        return summaryLines;
    }
}
