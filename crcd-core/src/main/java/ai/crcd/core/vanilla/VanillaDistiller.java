package ai.crcd.core.vanilla;

import ai.crcd.core.DistillBatch;
import ai.crcd.core.Distiller;
import ai.crcd.core.DistillerFactory;
import ai.crcd.core.DistillerOptions;
import ai.crcd.core.LossTerms;
import ai.crcd.core.TeacherUse;
import java.util.List;

/**
 * No distillation: the student learns from the labels alone (the loop's cross-entropy). Used for
 * the vanilla-student baseline so that every run goes through the same loop.
 */
public final class VanillaDistiller implements Distiller {

    @Override
    public String name() {
        return "vanilla";
    }

    /**
     * Returns {@link TeacherUse#NONE}: the step never runs the teacher for the vanilla student.
     *
     * @return NONE
     */
    @Override
    public TeacherUse teacherUse() {
        return TeacherUse.NONE;
    }

    @Override
    public LossTerms losses(DistillBatch batch) {
        return new LossTerms();
    }

    /** Factory for the names {@code vanilla} and {@code none}. */
    public static final class Factory implements DistillerFactory {
        @Override
        public List<String> names() {
            return List.of("vanilla");
        }

        @Override
        public Distiller create(String name, DistillerOptions options) {
            options.checkNoUnknownKeys();
            return new VanillaDistiller();
        }
    }
}
