package ai.crcd.bench.suite;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A benchmark suite as written in a YAML file under {@code configs/bench/}: a base training config,
 * one or more teacher/student pairs, the methods to compare and the seeds.
 *
 * <pre>
 * name: fashion-mnist-quick
 * base: ../fashion-mnist/base.yaml     # a training config (path, relative to this file) or an inline mapping
 * overrides: [optim.epochs=3]          # for every run (teachers and students)
 * teacher: {model: resnet20}           # or {model: ..., checkpoint: path} to reuse a teacher
 * student: resnet8                     # (or: pairs: [{teacher: {...}, student: ...}, ...])
 * seeds: [1, 2, 3]
 * methods:
 *   - {label: vanilla, method: vanilla}
 *   - {label: KD, method: kd, ce_weight: 0.1, options: {alpha: 0.9, temperature: 4}}
 *   - {label: DKD, method: dkd, pair_options: {resnet56_resnet20: {beta: 2.0}}}  # per pair
 * </pre>
 *
 * @param name the suite's name
 * @param description free text for the report
 * @param base the base training config: a path (string) or an inline mapping
 * @param overrides overrides for every run
 * @param teacher the teacher (single-pair form)
 * @param student the student architecture (single-pair form)
 * @param pairs the pairs (multi-pair form)
 * @param seeds the student seeds
 * @param methods the methods
 */
public record SuiteSpec(
        @JsonProperty(value = "name", required = true) String name,
        @JsonProperty("description") String description,
        @JsonProperty(value = "base", required = true) JsonNode base,
        @JsonProperty("overrides") List<String> overrides,
        @JsonProperty("teacher") TeacherSpec teacher,
        @JsonProperty("student") String student,
        @JsonProperty("pairs") List<PairSpec> pairs,
        @JsonProperty(value = "seeds", required = true) List<Long> seeds,
        @JsonProperty(value = "methods", required = true) List<MethodSpec> methods) {

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.+-]+");
    static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory())
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** Fills defaults. */
    public SuiteSpec {
        overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }

    /**
     * Reads and validates a suite file.
     *
     * @param file the YAML file
     * @return the suite
     * @throws IllegalArgumentException naming the file, the field and the fix for a bad suite
     * @throws IOException if the file cannot be read
     */
    public static SuiteSpec load(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(
                    "suite file "
                            + file
                            + " does not exist; pass an existing file, e.g. configs/bench/fashion-mnist-quick.yaml");
        }
        return parse(text, file.toString());
    }

    /**
     * Parses and validates a suite from YAML text.
     *
     * @param yaml the YAML text
     * @param source where it came from, for messages
     * @return the suite
     * @throws IllegalArgumentException naming the source, the field and the fix for a bad suite
     */
    public static SuiteSpec parse(String yaml, String source) {
        SuiteSpec spec;
        try {
            spec = YAML.readValue(yaml, SuiteSpec.class);
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(
                    source
                            + ": unknown key '"
                            + e.getPropertyName()
                            + "' at "
                            + location(e)
                            + "; allowed here: "
                            + e.getKnownPropertyIds(),
                    e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    source + ": " + e.getOriginalMessage() + " at " + location(e), e);
        }
        if (spec == null) {
            throw new IllegalArgumentException(source + ": empty suite file");
        }
        spec.validate(source);
        return spec;
    }

    private static String location(JsonProcessingException e) {
        String where = e.getLocation() == null ? "?" : "line " + e.getLocation().getLineNr();
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m
                && !m.getPath().isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (var ref : m.getPath()) {
                if (ref.getFieldName() != null) {
                    sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    sb.append('[').append(ref.getIndex()).append(']');
                }
            }
            where += " (" + sb + ")";
        }
        return where;
    }

    private void validate(String source) {
        if (!SAFE.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    source + ": name '" + name + "' may only hold letters, digits and _ . + -");
        }
        if (!(base.isTextual() || base.isObject())) {
            throw new IllegalArgumentException(
                    source
                            + ": base must be a path to a training config or an inline mapping, got "
                            + base);
        }
        boolean single = teacher != null || student != null;
        if (single && pairs != null) {
            throw new IllegalArgumentException(
                    source + ": give either 'teacher' + 'student' or 'pairs', not both");
        }
        if (single && (teacher == null || student == null)) {
            throw new IllegalArgumentException(
                    source
                            + ": the single-pair form needs both 'teacher: {model: ...}' and 'student: <model>'");
        }
        if (!single && (pairs == null || pairs.isEmpty())) {
            throw new IllegalArgumentException(
                    source
                            + ": no pair; add 'teacher: {model: ...}' and 'student: <model>', or a 'pairs' list");
        }
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException(
                    source + ": seeds is empty; list at least one, e.g. [1, 2, 3]");
        }
        if (new HashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException(source + ": seeds " + seeds + " repeat a value");
        }
        if (methods.isEmpty()) {
            throw new IllegalArgumentException(source + ": methods is empty; list at least one");
        }
        Set<String> labels = new HashSet<>();
        for (MethodSpec m : methods) {
            if (!SAFE.matcher(m.label()).matches()) {
                throw new IllegalArgumentException(
                        source
                                + ": method label '"
                                + m.label()
                                + "' may only hold letters, digits and _ . + -");
            }
            if (m.label().equalsIgnoreCase(SuiteLayout.TEACHER)) {
                throw new IllegalArgumentException(
                        source
                                + ": method label 'teacher' is reserved for the teacher row; rename it");
            }
            if (!labels.add(m.label())) {
                throw new IllegalArgumentException(
                        source + ": method label '" + m.label() + "' appears twice");
            }
            if (!(m.ceWeight() >= 0)) {
                throw new IllegalArgumentException(
                        source
                                + ": method "
                                + m.label()
                                + ": ce_weight "
                                + m.ceWeight()
                                + " must be >= 0");
            }
        }
        Set<String> names = new HashSet<>();
        for (PairSpec p : pairList()) {
            if (!SAFE.matcher(p.name()).matches()) {
                throw new IllegalArgumentException(
                        source
                                + ": pair name '"
                                + p.name()
                                + "' may only hold letters, digits and _ . + -");
            }
            if (!names.add(p.name())) {
                throw new IllegalArgumentException(
                        source + ": pair '" + p.name() + "' appears twice");
            }
        }
        for (MethodSpec m : methods) {
            for (String pair : m.pairOptions().keySet()) {
                if (!names.contains(pair)) {
                    throw new IllegalArgumentException(
                            source
                                    + ": method "
                                    + m.label()
                                    + ": pair_options names pair '"
                                    + pair
                                    + "', allowed: "
                                    + new java.util.TreeSet<>(names));
                }
            }
        }
    }

    /**
     * Returns the pairs, whichever form the file used.
     *
     * @return one or more pairs
     */
    public List<PairSpec> pairList() {
        if (pairs != null) {
            return pairs;
        }
        return List.of(new PairSpec(null, teacher, student, List.of()));
    }

    /**
     * Resolves the base training config to a YAML tree.
     *
     * @param suiteDir the folder of the suite file (relative paths are tried there first, then
     *     against the working directory); may be {@code null}
     * @return a fresh copy of the base config
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if a base path names no file
     */
    public ObjectNode baseTree(Path suiteDir) throws IOException {
        if (base.isObject()) {
            return ((ObjectNode) base).deepCopy();
        }
        Path p = Path.of(base.asText());
        List<Path> tried = new ArrayList<>();
        if (!p.isAbsolute() && suiteDir != null) {
            tried.add(suiteDir.resolve(p));
        }
        tried.add(p);
        for (Path t : tried) {
            if (Files.isRegularFile(t)) {
                JsonNode n = YAML.readTree(t.toFile());
                if (!(n instanceof ObjectNode o)) {
                    throw new IllegalArgumentException(
                            "base config "
                                    + t
                                    + " is not a YAML mapping; it must be a training config");
                }
                return o;
            }
        }
        throw new IllegalArgumentException(
                "suite '"
                        + name
                        + "': base config '"
                        + base.asText()
                        + "' not found (tried "
                        + tried
                        + "); give a path relative to the suite file or an inline mapping");
    }

    /**
     * Returns the canonical JSON of this suite, used to notice a changed suite on resume.
     *
     * @return the JSON text
     */
    public String canonicalJson() {
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
