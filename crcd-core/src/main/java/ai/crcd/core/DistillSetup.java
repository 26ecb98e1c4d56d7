package ai.crcd.core;

import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * What a {@link Distiller} needs to know before training: the shapes of both networks' outputs, the
 * class count, and (for per-sample memories) the training set's size and labels.
 */
public final class DistillSetup {

    private final int teacherDim;
    private final int studentDim;
    private final int numClasses;
    private final long datasetSize;
    private final int[] datasetLabels;
    private final long seed;
    private final List<Shape> teacherShapes;
    private final List<Shape> studentShapes;
    private final DataType dataType;

    private DistillSetup(Builder b) {
        this.teacherDim = b.teacherDim;
        this.studentDim = b.studentDim;
        this.numClasses = b.numClasses;
        this.datasetSize = b.datasetSize;
        this.datasetLabels = b.datasetLabels;
        this.seed = b.seed;
        this.teacherShapes = b.teacherShapes;
        this.studentShapes = b.studentShapes;
        this.dataType = b.dataType;
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
     * Returns the teacher's pooled feature dimension Dt.
     *
     * @return Dt
     */
    public int teacherDim() {
        return teacherDim;
    }

    /**
     * Returns the student's pooled feature dimension Ds.
     *
     * @return Ds
     */
    public int studentDim() {
        return studentDim;
    }

    /**
     * Returns the number of classes C.
     *
     * @return C
     */
    public int numClasses() {
        return numClasses;
    }

    /**
     * Returns the number of training samples, or 0 if unknown.
     *
     * @return n_data
     */
    public long datasetSize() {
        return datasetSize;
    }

    /**
     * Returns the label of every training sample, indexed by sample index, or {@code null}.
     *
     * @return (n_data) labels
     */
    public int[] datasetLabels() {
        return datasetLabels;
    }

    /**
     * Returns the seed for the distiller's own randomness (sampling, initialisation).
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * Returns the shapes of the teacher's {@link FeatureOutput} arrays in layout order, batch 1.
     *
     * @return the shapes, or an empty list if not given
     */
    public List<Shape> teacherShapes() {
        return teacherShapes;
    }

    /**
     * Returns the shapes of the student's {@link FeatureOutput} arrays in layout order, batch 1.
     *
     * @return the shapes, or an empty list if not given
     */
    public List<Shape> studentShapes() {
        return studentShapes;
    }

    /**
     * Returns the data type of the auxiliary parameters.
     *
     * @return the data type, float32 by default
     */
    public DataType dataType() {
        return dataType;
    }

    /** Builder for {@link DistillSetup}: {@code set*} are required, {@code opt*} optional. */
    public static final class Builder {
        private int teacherDim = -1;
        private int studentDim = -1;
        private int numClasses = -1;
        private long datasetSize;
        private int[] datasetLabels;
        private long seed = 0;
        private List<Shape> teacherShapes = List.of();
        private List<Shape> studentShapes = List.of();
        private DataType dataType = DataType.FLOAT32;

        Builder() {}

        /**
         * Sets the pooled feature dimensions.
         *
         * @param teacherDim Dt
         * @param studentDim Ds
         * @return this builder
         */
        public Builder setFeatureDims(int teacherDim, int studentDim) {
            this.teacherDim = teacherDim;
            this.studentDim = studentDim;
            return this;
        }

        /**
         * Sets the class count.
         *
         * @param numClasses C
         * @return this builder
         */
        public Builder setNumClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Sets the training set's labels (and so its size).
         *
         * @param labels label of each sample, by sample index
         * @return this builder
         */
        public Builder optDatasetLabels(int[] labels) {
            this.datasetLabels = labels;
            this.datasetSize = labels.length;
            return this;
        }

        /**
         * Sets the training set's size when the labels are not given.
         *
         * @param size n_data
         * @return this builder
         */
        public Builder optDatasetSize(long size) {
            this.datasetSize = size;
            return this;
        }

        /**
         * Sets the seed.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets the output shapes of both networks (layout of {@link FeatureOutput}, batch 1).
         *
         * @param teacher teacher shapes
         * @param student student shapes
         * @return this builder
         */
        public Builder optOutputShapes(List<Shape> teacher, List<Shape> student) {
            this.teacherShapes = List.copyOf(teacher);
            this.studentShapes = List.copyOf(student);
            return this;
        }

        /**
         * Sets the parameter data type.
         *
         * @param dataType the data type
         * @return this builder
         */
        public Builder optDataType(DataType dataType) {
            this.dataType = dataType;
            return this;
        }

        /**
         * Builds the setup.
         *
         * @return the setup
         */
        public DistillSetup build() {
            if (teacherDim <= 0 || studentDim <= 0 || numClasses <= 0) {
                throw new IllegalStateException(
                        "DistillSetup needs positive feature dims and class count, got teacherDim="
                                + teacherDim
                                + ", studentDim="
                                + studentDim
                                + ", numClasses="
                                + numClasses);
            }
            return new DistillSetup(this);
        }
    }
}
