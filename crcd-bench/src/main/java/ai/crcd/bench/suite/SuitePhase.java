package ai.crcd.bench.suite;

import java.util.Locale;

/** Which runs of a suite an invocation performs: the teachers, the students, or both in order. */
public enum SuitePhase {
    /** Teachers first, then students (the default). */
    ALL,
    /** Only the teachers' training runs. */
    TEACHERS,
    /** Only the students' runs (a missing teacher is trained first, under its claim). */
    STUDENTS;

    /**
     * Parses {@code all}, {@code teachers} or {@code students}.
     *
     * @param text the option's value
     * @return the phase
     * @throws IllegalArgumentException naming the option and the allowed values
     */
    public static SuitePhase parse(String text) {
        for (SuitePhase p : values()) {
            if (p.name().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException(
                "--phase: got '" + text + "', allowed: teachers, students or all");
    }

    /**
     * Whether runs of a role belong to this phase.
     *
     * @param role {@link RunRecord#ROLE_TEACHER} or {@link RunRecord#ROLE_STUDENT}
     * @return {@code true} when this phase performs them
     */
    public boolean includes(String role) {
        return this == ALL || name().toLowerCase(Locale.ROOT).startsWith(role);
    }
}
