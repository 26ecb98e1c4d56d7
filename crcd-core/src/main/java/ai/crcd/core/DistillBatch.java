package ai.crcd.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;

/**
 * Everything a distiller sees of one training (or evaluation) step.
 *
 * <p>The teacher output comes from a frozen network in inference mode and carries no gradient; the
 * student output is attached to the autograd graph.
 */
public final class DistillBatch {

    private final FeatureOutput teacher;
    private final FeatureOutput student;
    private final NDArray labels;
    private final NDArray indices;
    private final NDArray teacherHeadWeight;
    private final NDArray studentHeadWeight;
    private final ParameterStore parameterStore;
    private final boolean training;
    private final int epoch;
    private final int views;

    private DistillBatch(Builder b) {
        this.teacher = b.teacher;
        this.student = b.student;
        this.labels = b.labels;
        this.indices = b.indices;
        this.teacherHeadWeight = b.teacherHeadWeight;
        this.studentHeadWeight = b.studentHeadWeight;
        this.parameterStore = b.parameterStore;
        this.training = b.training;
        this.epoch = b.epoch;
        this.views = b.views;
    }

    /**
     * Returns a new builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the teacher output (no gradient).
     *
     * @return the teacher output
     */
    public FeatureOutput teacher() {
        return teacher;
    }

    /**
     * Returns the student output.
     *
     * @return the student output
     */
    public FeatureOutput student() {
        return student;
    }

    /**
     * Returns the class labels.
     *
     * @return (B) int64
     */
    public NDArray labels() {
        return labels;
    }

    /**
     * Returns the indices of the samples within the training set.
     *
     * @return (B) int64
     */
    public NDArray indices() {
        return indices;
    }

    /**
     * Returns the teacher classifier weight, or {@code null} if not given.
     *
     * @return (C, Dt)
     */
    public NDArray teacherHeadWeight() {
        return teacherHeadWeight;
    }

    /**
     * Returns the student classifier weight, or {@code null} if not given. It is the trained
     * parameter itself, so terms built from it carry gradient to it.
     *
     * @return (C, Ds)
     */
    public NDArray studentHeadWeight() {
        return studentHeadWeight;
    }

    /**
     * Returns the parameter store through which auxiliary blocks are run.
     *
     * @return the parameter store
     */
    public ParameterStore parameterStore() {
        return parameterStore;
    }

    /**
     * Returns whether this is a training step (buffers may be updated after it).
     *
     * @return {@code true} for training
     */
    public boolean training() {
        return training;
    }

    /**
     * Returns the 1-based training epoch this batch belongs to (epoch 1 is the first), for methods
     * whose weights follow a schedule (DKD's warm-up). crcd-train's loop and {@code DistillStep}
     * set it; a batch built without {@link Builder#optEpoch(int)} is in epoch 1.
     *
     * @return the epoch, &gt;= 1
     */
    public int epoch() {
        return epoch;
    }

    /**
     * Returns how many views of each image the outputs hold (see {@link InputViews}): 1 unless the
     * method asked for more through {@link Distiller#trainingViews}. With V views the teacher and
     * student outputs have V * B rows, view-major, and {@link #labels()} / {@link #indices()} have
     * the B rows of the originals.
     *
     * @return V &gt;= 1
     */
    public int views() {
        return views;
    }

    /**
     * Returns the rows of the originals (view 0) of an array laid out as the outputs.
     *
     * @param rows (V * B, ...) e.g. {@code student().logits()}
     * @return (B, ...) the originals' rows, {@code rows} itself with one view
     */
    public NDArray originals(NDArray rows) {
        return InputViews.originals(rows, views);
    }

    /**
     * Returns the manager of the student output; per-step intermediates should live there.
     *
     * @return the manager
     */
    public NDManager manager() {
        return student.logits().getManager();
    }

    /** Builder for {@link DistillBatch}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private FeatureOutput teacher;
        private FeatureOutput student;
        private NDArray labels;
        private NDArray indices;
        private NDArray teacherHeadWeight;
        private NDArray studentHeadWeight;
        private ParameterStore parameterStore;
        private boolean training = true;
        private int epoch = 1;
        private int views = 1;

        Builder() {}

        /**
         * Sets the teacher output.
         *
         * @param teacher the output of the frozen teacher
         * @return this builder
         */
        public Builder setTeacher(FeatureOutput teacher) {
            this.teacher = teacher;
            return this;
        }

        /**
         * Sets the student output.
         *
         * @param student the output of the student
         * @return this builder
         */
        public Builder setStudent(FeatureOutput student) {
            this.student = student;
            return this;
        }

        /**
         * Sets the labels.
         *
         * @param labels (B) integer class labels
         * @return this builder
         */
        public Builder setLabels(NDArray labels) {
            this.labels = labels;
            return this;
        }

        /**
         * Sets the sample indices.
         *
         * @param indices (B) indices within the training set
         * @return this builder
         */
        public Builder setIndices(NDArray indices) {
            this.indices = indices;
            return this;
        }

        /**
         * Sets the parameter store used to run auxiliary blocks.
         *
         * @param parameterStore the store
         * @return this builder
         */
        public Builder setParameterStore(ParameterStore parameterStore) {
            this.parameterStore = parameterStore;
            return this;
        }

        /**
         * Sets the classifier weights (needed by the gradient element).
         *
         * @param teacher (C, Dt)
         * @param student (C, Ds), the trained parameter array
         * @return this builder
         */
        public Builder optHeadWeights(NDArray teacher, NDArray student) {
            this.teacherHeadWeight = teacher;
            this.studentHeadWeight = student;
            return this;
        }

        /**
         * Sets whether this is a training step; default {@code true}.
         *
         * @param training training or evaluation
         * @return this builder
         */
        public Builder optTraining(boolean training) {
            this.training = training;
            return this;
        }

        /**
         * Sets the 1-based training epoch (mdistiller's numbering: the first epoch is 1); default
         * 1.
         *
         * @param epoch the epoch, &gt;= 1
         * @return this builder
         */
        public Builder optEpoch(int epoch) {
            if (epoch < 1) {
                throw new IllegalArgumentException("DistillBatch epoch is 1-based, got " + epoch);
            }
            this.epoch = epoch;
            return this;
        }

        /**
         * Sets how many views of each image the outputs hold; default 1.
         *
         * @param views V &gt;= 1 (see {@link InputViews})
         * @return this builder
         */
        public Builder optViews(int views) {
            this.views = views;
            return this;
        }

        /**
         * Builds the batch.
         *
         * @return the batch
         */
        public DistillBatch build() {
            if (teacher == null || student == null || labels == null || parameterStore == null) {
                throw new IllegalStateException(
                        "DistillBatch needs teacher, student, labels and parameterStore");
            }
            if (views < 1) {
                throw new IllegalStateException("DistillBatch: views must be >= 1, got " + views);
            }
            return new DistillBatch(this);
        }
    }
}
