package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One teacher/student pair of a suite.
 *
 * @param name the pair's name (folder and table heading); {@code <teacher>_<student>} if absent
 * @param teacher the teacher
 * @param student the student architecture, e.g. {@code "resnet20"}
 * @param overrides extra overrides for every run of this pair (teacher and students)
 */
public record PairSpec(
        @JsonProperty("name") String name,
        @JsonProperty(value = "teacher", required = true) TeacherSpec teacher,
        @JsonProperty(value = "student", required = true) String student,
        @JsonProperty("overrides") List<String> overrides) {

    /** Fills defaults. */
    public PairSpec {
        if (name == null && teacher != null && student != null) {
            name = teacher.model() + "_" + student;
        }
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }
}
