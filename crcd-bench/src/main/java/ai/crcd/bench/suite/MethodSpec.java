package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * One method of a suite: a label for tables and folders, the distillation method with its options,
 * and the weight of the student's cross-entropy.
 *
 * @param label the name shown in tables and used as a folder name, e.g. {@code "CRD+KD"}
 * @param method the distiller's registered name, e.g. {@code "crd_kd"}
 * @param ceWeight the weight of the cross-entropy on labels ({@code loss.ce_weight}); 1 if absent
 * @param options the distiller's options ({@code distill.options}); empty if absent
 * @param overrides extra {@code key.path=value} overrides for this method's runs only
 */
public record MethodSpec(
        @JsonProperty(value = "label", required = true) String label,
        @JsonProperty(value = "method", required = true) String method,
        @JsonProperty("ce_weight") Double ceWeight,
        @JsonProperty("options") Map<String, Object> options,
        @JsonProperty("overrides") List<String> overrides) {

    /** Fills defaults. */
    public MethodSpec {
        ceWeight = ceWeight == null ? 1.0 : ceWeight;
        options = options == null ? Map.of() : options;
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }
}
