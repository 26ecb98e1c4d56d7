package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonCreator;
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
 * @param pairOptions options that replace {@code options} for the named pairs ({@code pair_options:
 *     {resnet56_resnet20: {beta: 2.0}}}, e.g. DKD's per-pair beta); empty if absent
 */
public record MethodSpec(
        @JsonProperty(value = "label", required = true) String label,
        @JsonProperty(value = "method", required = true) String method,
        @JsonProperty("ce_weight") Double ceWeight,
        @JsonProperty("options") Map<String, Object> options,
        @JsonProperty("overrides") List<String> overrides,
        @JsonProperty("pair_options") Map<String, Map<String, Object>> pairOptions) {

    /** Fills defaults. */
    @JsonCreator
    public MethodSpec {
        ceWeight = ceWeight == null ? 1.0 : ceWeight;
        options = options == null ? Map.of() : options;
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
        pairOptions = pairOptions == null ? Map.of() : Map.copyOf(pairOptions);
    }

    /**
     * A method with the same options for every pair.
     *
     * @param label the label
     * @param method the method
     * @param ceWeight the cross-entropy weight, or {@code null} for 1
     * @param options the options
     * @param overrides the overrides
     */
    public MethodSpec(
            String label,
            String method,
            Double ceWeight,
            Map<String, Object> options,
            List<String> overrides) {
        this(label, method, ceWeight, options, overrides, null);
    }

    /**
     * Returns the options of this method's runs on a pair.
     *
     * @param pairName the pair's name ({@code <teacher>_<student>} unless named)
     * @return the pair's options, else {@link #options()}
     */
    public Map<String, Object> optionsFor(String pairName) {
        return pairOptions.getOrDefault(pairName, options);
    }
}
