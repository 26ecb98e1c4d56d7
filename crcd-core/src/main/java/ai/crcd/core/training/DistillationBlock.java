package ai.crcd.core.training;

import ai.crcd.core.DistillableNetwork;
import ai.crcd.core.FeatureOutput;
import ai.crcd.core.StudentWithAuxiliary;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The block a DJL {@code Model} trains with {@code EasyTrain}: the student and the distiller's
 * auxiliary block as children (so one optimiser trains both and {@code model.save} writes both),
 * and the frozen teacher outside the parameter tree.
 *
 * <p>In training mode the output is the student's {@link FeatureOutput} followed by the teacher's
 * (run in inference mode through its own parameter store); {@link DistillationLoss} splits it. In
 * inference mode (validation, a {@code Predictor}) the output is the student's alone, index 0 the
 * logits (B, C), so DJL's {@code Accuracy} evaluators work unchanged.
 */
public final class DistillationBlock extends StudentWithAuxiliary {

    private DistillStep step;
    private volatile int studentOutputs = -1;

    DistillationBlock(DistillableNetwork student, Block auxiliary) {
        super(student, auxiliary);
    }

    void bind(DistillStep step) {
        this.step = step;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList student = super.forwardInternal(ps, inputs, training, params);
        studentOutputs = student.size();
        if (!training) {
            return student;
        }
        FeatureOutput teacher = step.teacherForward(inputs.head()); // no gradient
        if (teacher == null) { // the distiller does not use the teacher
            return student;
        }
        NDList out = new NDList(student);
        out.addAll(teacher.toNDList());
        return out;
    }

    /**
     * Returns how many of the last forward's outputs are the student's.
     *
     * @return the count, -1 before the first forward
     */
    int studentOutputs() {
        return studentOutputs;
    }
}
