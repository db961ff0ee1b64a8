package dev.portcullis.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Untyped key/value pairs in precedence order: defaults, then the YAML file, then {@code PORTCULLIS_*}
 * environment variables, then explicit overrides. A value is a String or a List of Strings. Unknown
 * keys in the file and unknown {@code PORTCULLIS_*} variables are problems: a typo must not be
 * silently ignored.
 */
final class RawConfig {
    /** Environment variables of ours that are not configuration keys. */
    private static final Set<String> NOT_KEYS = Set.of("PORTCULLIS_CONFIG", "PORTCULLIS_JAVA_OPTS", "PORTCULLIS_JAVA_HOME");
    /** The load generator's variables ({@code PORTCULLIS_BENCH_SECRET}, ...), often exported in the gateway's shell. */
    private static final String BENCH_PREFIX = "PORTCULLIS_BENCH_";

    private final Map<String, Object> values = new LinkedHashMap<>();
    private final List<String> problems;

    RawConfig(List<String> problems) {
        this.problems = problems;
        for (ConfigKeys.Key key : ConfigKeys.ALL) {
            values.put(key.name(), key.kind() == ConfigKeys.Kind.LIST ? splitList(key.defaultValue()) : key.defaultValue());
        }
    }

    Map<String, Object> values() {
        return values;
    }

    void readYaml(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            problems.add(file + ": cannot read: " + e.getMessage().lines().findFirst().orElse(""));
            return;
        }
        if (root == null || root.isNull() || root.isMissingNode()) {
            return;
        }
        if (!root.isObject()) {
            problems.add(file + ": the top level must be a mapping of keys");
            return;
        }
        flatten("", root, file);
    }

    void readEnvironment(Map<String, String> env) {
        Map<String, ConfigKeys.Key> byEnvName = new LinkedHashMap<>();
        ConfigKeys.ALL.forEach(key -> byEnvName.put(key.envName(), key));
        env.forEach((name, value) -> {
            if (!name.startsWith("PORTCULLIS_") || NOT_KEYS.contains(name) || name.startsWith(BENCH_PREFIX)) {
                return;
            }
            ConfigKeys.Key key = byEnvName.get(name);
            if (key == null) {
                problems.add(name + ": no such configuration key (environment variable)");
            } else {
                values.put(key.name(), key.kind() == ConfigKeys.Kind.LIST ? splitList(value) : value.trim());
            }
        });
    }

    /** Overrides from code (the CLI's --dev mode, tests); keys must exist. */
    void override(Map<String, ?> overrides) {
        overrides.forEach((name, value) -> {
            if (ConfigKeys.byName(name) == null) {
                throw new IllegalArgumentException("no such configuration key: " + name);
            }
            values.put(name, value instanceof List<?> list ? list.stream().map(String::valueOf).toList() : String.valueOf(value));
        });
    }

    private void flatten(String prefix, JsonNode node, Path file) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            JsonNode value = field.getValue();
            ConfigKeys.Key key = ConfigKeys.byName(name);
            if (key == null && value.isObject()) {
                flatten(name, value, file);
            } else if (key == null) {
                problems.add(shown(name) + ": no such configuration key (in " + file + ")");
            } else if (value.isNull()) {
                values.put(name, key.kind() == ConfigKeys.Kind.LIST ? List.of() : "");
            } else if (key.kind() == ConfigKeys.Kind.LIST) {
                values.put(name, listOf(name, value));
            } else if (value.isValueNode()) {
                values.put(name, value.asText().trim());
            } else {
                problems.add(name + ": expected a single value, got " + value.getNodeType().name().toLowerCase());
            }
        }
    }

    private List<String> listOf(String name, JsonNode value) {
        if (value.isValueNode()) {
            return splitList(value.asText());
        }
        if (!value.isArray()) {
            problems.add(name + ": expected a list");
            return List.of();
        }
        List<String> items = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isValueNode() || item.isNull()) {
                problems.add(name + ": list items must be plain values");
            } else {
                items.add(item.asText().trim());
            }
        }
        return items;
    }

    /** A name from the file as a problem shows it: quoted when it is empty or has spaces at an end, which would vanish. */
    private static String shown(String name) {
        return name.isEmpty() || !name.equals(name.strip()) ? "'" + name + "'" : name;
    }

    static List<String> splitList(String text) {
        if (text == null || text.isBlank()) {
            return List.of();
        }
        return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
