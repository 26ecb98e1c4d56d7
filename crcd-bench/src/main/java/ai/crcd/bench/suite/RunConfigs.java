package ai.crcd.bench.suite;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the run configs of a suite from its base training config. The one place that knows the
 * keys of crcd-train's config: {@code kind}, {@code seed}, {@code model.name}, {@code
 * teacher.name}, {@code teacher.checkpoint}, {@code distill.method}, {@code distill.options},
 * {@code loss.ce_weight}.
 */
public final class RunConfigs {

    private RunConfigs() {}

    /**
     * Returns the config of a teacher's training run: the base with {@code kind: train}, the
     * teacher's model and seed, and no {@code teacher}/{@code distill} sections.
     *
     * @param base the base config (not modified)
     * @param teacher the teacher
     * @return the config as YAML text
     */
    public static String teacherYaml(ObjectNode base, TeacherSpec teacher) {
        ObjectNode c = base.deepCopy();
        c.remove("teacher");
        c.remove("distill");
        c.put("kind", "train");
        c.put("seed", teacher.seed());
        c.withObject("/model").put("name", teacher.model());
        return yaml(c);
    }

    /**
     * Returns the config of a student's distillation run: the base with {@code kind: distill}, the
     * student's model and seed, the teacher and its checkpoint, the method with its options for the
     * pair (replacing any options of the base) and the cross-entropy weight.
     *
     * @param base the base config (not modified)
     * @param pair the pair
     * @param method the method
     * @param teacherCheckpoint the teacher's checkpoint
     * @param seed the seed
     * @return the config as YAML text
     */
    public static String studentYaml(
            ObjectNode base,
            PairSpec pair,
            MethodSpec method,
            String teacherCheckpoint,
            long seed) {
        ObjectNode c = base.deepCopy();
        c.put("kind", "distill");
        c.put("seed", seed);
        c.withObject("/model").put("name", pair.student());
        ObjectNode t = c.withObject("/teacher");
        t.put("name", pair.teacher().model());
        t.put("checkpoint", teacherCheckpoint);
        ObjectNode d = c.withObject("/distill");
        d.put("method", method.method());
        JsonNode options = SuiteSpec.YAML.valueToTree(method.optionsFor(pair.name()));
        d.set("options", options);
        c.withObject("/loss").put("ce_weight", method.ceWeight());
        return yaml(c);
    }

    /**
     * Returns the overrides of a run in the order they apply: suite, pair, then teacher or method.
     *
     * @param suite the suite
     * @param pair the pair
     * @param last the teacher's or the method's overrides
     * @return the overrides
     */
    public static List<String> overrides(SuiteSpec suite, PairSpec pair, List<String> last) {
        List<String> all = new ArrayList<>(suite.overrides());
        all.addAll(pair.overrides());
        all.addAll(last);
        return all;
    }

    private static String yaml(ObjectNode c) {
        try {
            return SuiteSpec.YAML.writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
