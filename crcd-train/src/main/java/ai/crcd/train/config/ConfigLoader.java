package ai.crcd.train.config;

import ai.crcd.train.Catalog;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a {@link RunConfig} from YAML, applies {@code key.path=value} overrides, binds it strictly
 * (unknown keys and wrong types are errors) and validates it ({@link ConfigValidator}). Every
 * problem is one {@link ConfigException} line naming the key, the value and what is allowed.
 */
public final class ConfigLoader {

    private static final ObjectMapper YAML = newMapper();

    private ConfigLoader() {}

    private static ObjectMapper newMapper() {
        YAMLFactory f =
                YAMLFactory.builder()
                        .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                        .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // a key twice: error
                        .build();
        return JsonMapper.builder(f)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
    }

    /**
     * Loads, overrides and validates a config file (names checked against the standard catalog;
     * files are checked later, by {@link ConfigValidator#checkFiles(RunConfig)}).
     *
     * @param yaml the file
     * @param overrides {@code key.path=value} strings, applied in order
     * @return the validated config
     * @throws ConfigException for any problem, as one line
     */
    public static RunConfig load(Path yaml, List<String> overrides) {
        return load(yaml, overrides, Catalog.standard());
    }

    /**
     * Loads with a given catalog.
     *
     * @param yaml the file
     * @param overrides {@code key.path=value} strings
     * @param catalog the names that are allowed
     * @return the validated config
     */
    public static RunConfig load(Path yaml, List<String> overrides, Catalog catalog) {
        String text;
        try {
            text = Files.readString(yaml);
        } catch (NoSuchFileException e) {
            throw new ConfigException(yaml + ": no such config file");
        } catch (IOException e) {
            throw new ConfigException(yaml + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(text, overrides, yaml.toString(), catalog);
    }

    /**
     * Parses, overrides and validates a config given as text.
     *
     * @param yaml the YAML text
     * @param overrides {@code key.path=value} strings
     * @return the validated config
     */
    public static RunConfig fromString(String yaml, List<String> overrides) {
        return fromString(yaml, overrides, Catalog.standard());
    }

    /**
     * Parses with a given catalog.
     *
     * @param yaml the YAML text
     * @param overrides {@code key.path=value} strings
     * @param catalog the names that are allowed
     * @return the validated config
     */
    public static RunConfig fromString(String yaml, List<String> overrides, Catalog catalog) {
        return parse(yaml, overrides, "<config>", catalog);
    }

    private static RunConfig parse(
            String text, List<String> overrides, String source, Catalog catalog) {
        RunConfig cfg = bind(text, overrides, source);
        try {
            ConfigValidator.validate(cfg, catalog);
        } catch (ConfigException e) {
            throw new ConfigException(source + ": " + e.getMessage());
        }
        return cfg;
    }

    /**
     * Parses and binds without validation (strict keys and types only).
     *
     * @param text the YAML text
     * @param overrides {@code key.path=value} strings
     * @param source the file name for messages
     * @return the bound config
     */
    public static RunConfig bind(String text, List<String> overrides, String source) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(syntaxError(source, e));
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            root = YAML.createObjectNode();
        }
        if (!root.isObject()) {
            throw new ConfigException(source + ": the top level must be a map of keys");
        }
        for (String o : overrides == null ? List.<String>of() : overrides) {
            applyOverride((ObjectNode) root, o);
        }
        try {
            return YAML.treeToValue(root, RunConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source + ": " + describe(e, root));
        }
    }

    /**
     * Applies one override {@code a.b.c=value}; the value is read as YAML ({@code 0.01}, {@code [1,
     * 2]}, {@code true}, {@code null}, text).
     */
    private static void applyOverride(ObjectNode root, String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException(
                    "--set: got '" + override + "', allowed: key.path=value, e.g. optim.lr=0.01");
        }
        String key = override.substring(0, eq).trim();
        String raw = override.substring(eq + 1);
        JsonNode value;
        if (NON_FINITE.matcher(raw.trim()).matches()) {
            throw new ConfigException(
                    "--set " + key + ": got '" + raw + "', allowed: a finite number");
        }
        try {
            value = raw.isBlank() ? NullNode.getInstance() : YAML.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new ConfigException("--set " + key + ": got '" + raw + "', not a YAML value");
        }
        if (value == null || value.isMissingNode()) {
            value = NullNode.getInstance();
        }
        String[] parts = key.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || child.isNull()) {
                node = node.putObject(parts[i]);
            } else if (child.isObject()) {
                node = (ObjectNode) child;
            } else {
                throw new ConfigException(
                        "--set "
                                + key
                                + ": '"
                                + String.join(".", List.of(parts).subList(0, i + 1))
                                + "' is a value, not a section");
            }
        }
        node.set(parts[parts.length - 1], value);
    }

    /** YAML's spellings of NaN and infinity, which Jackson does not read as numbers. */
    private static final Pattern NON_FINITE = Pattern.compile("[-+]?\\.(nan|NaN|NAN|inf|Inf|INF)");

    /**
     * One line for a YAML text that cannot be read: {@code file:line:col: what is wrong}.
     *
     * @param source the file name
     * @param e the parser's exception
     * @return the message
     */
    static String syntaxError(String source, JsonProcessingException e) {
        int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
        int col = e.getLocation() == null ? -1 : e.getLocation().getColumnNr();
        String what = e.getOriginalMessage();
        String key = keyPath(e);
        Throwable cause = e.getCause();
        if (cause instanceof MarkedYAMLException) {
            MarkedYAMLException m = (MarkedYAMLException) cause;
            if (m.getProblemMark() != null) {
                line = m.getProblemMark().getLine() + 1;
                col = m.getProblemMark().getColumn() + 1;
            }
            String ctx = m.getContext();
            what = (ctx == null ? "" : ctx + ": ") + m.getProblem();
        }
        String where = source + (line > 0 ? ":" + line + (col > 0 ? ":" + col : "") : "");
        if (what != null && what.startsWith("Duplicate field")) {
            Matcher d = Pattern.compile("Duplicate field '([^']*)'").matcher(what);
            String name = d.find() ? d.group(1) : "?";
            String full = key.isEmpty() ? name : key;
            return where
                    + ": duplicate key '"
                    + full
                    + "' (each key may appear once per section;"
                    + " remove one of them)";
        }
        Matcher nan =
                Pattern.compile("Malformed numeric value '([^']*)'").matcher(String.valueOf(what));
        if (nan.find() && NON_FINITE.matcher(nan.group(1).trim()).matches()) {
            return where
                    + ": "
                    + (key.isEmpty() ? "value" : key)
                    + ": got '"
                    + nan.group(1)
                    + "', allowed: a finite number";
        }
        return where
                + ": not valid YAML ("
                + String.valueOf(what).replaceAll("\\s+", " ").trim()
                + ")";
    }

    /** The dotted key the parser was at, e.g. {@code optim.lr}, or "" if unknown. */
    private static String keyPath(JsonProcessingException e) {
        if (!(e.getProcessor() instanceof JsonParser)) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = ((JsonParser) e.getProcessor()).getParsingContext();
                c != null && !c.inRoot();
                c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                parts.add(0, c.getCurrentName());
            } else if (c.inArray()) {
                parts.add(0, "[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        return String.join(".", parts).replace(".[", "[");
    }

    private static String describe(JsonProcessingException e, JsonNode root) {
        String key = "";
        JsonNode at = null;
        if (e instanceof JsonMappingException) {
            at = root;
            for (JsonMappingException.Reference r : ((JsonMappingException) e).getPath()) {
                if (at == null) {
                    break;
                }
                at = r.getFieldName() != null ? at.get(r.getFieldName()) : at.get(r.getIndex());
            }
            key =
                    ((JsonMappingException) e)
                            .getPath().stream()
                                    .map(
                                            r ->
                                                    r.getFieldName() != null
                                                            ? r.getFieldName()
                                                            : "[" + r.getIndex() + "]")
                                    .collect(Collectors.joining("."))
                                    .replace(".[", "[");
        }
        if (e instanceof UnrecognizedPropertyException) {
            UnrecognizedPropertyException u = (UnrecognizedPropertyException) e;
            TreeSet<String> known = new TreeSet<>();
            if (u.getKnownPropertyIds() != null) {
                u.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
            }
            return key + ": unknown key, allowed keys here: " + known;
        }
        if (e instanceof InvalidFormatException) {
            InvalidFormatException f = (InvalidFormatException) e;
            return key + ": got '" + f.getValue() + "', allowed: " + typeName(f.getTargetType());
        }
        if (e instanceof MismatchedInputException) {
            MismatchedInputException m = (MismatchedInputException) e;
            String got =
                    at == null
                            ? "a wrong type"
                            : "'" + (at.isValueNode() ? at.asText() : at.toString()) + "'";
            return key + ": got " + got + ", allowed: " + typeName(m.getTargetType());
        }
        return key + ": " + e.getOriginalMessage();
    }

    private static String typeName(Class<?> t) {
        if (t == null) {
            return "another type";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "an integer";
        }
        if (t == double.class || t == Double.class || t == float.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (t == String.class) {
            return "a string";
        }
        if (List.class.isAssignableFrom(t)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(t)) {
            return "a map of keys";
        }
        return "a map of keys (section " + t.getSimpleName() + ")";
    }

    /**
     * Writes a config as YAML (the resolved config of a run).
     *
     * @param cfg the config
     * @return YAML text
     */
    public static String toYaml(RunConfig cfg) {
        try {
            return YAML.writeValueAsString(cfg);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write config", e);
        }
    }
}
