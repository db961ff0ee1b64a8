package dev.portcullis.gateway.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads of raw values. A value that does not parse adds a problem naming the key and
 * returns a harmless placeholder, so that every problem is found in one pass.
 */
final class ConfigReader {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)");
    /** No setting needs more; it also keeps every duration far from {@code long} nanosecond overflow. */
    static final Duration MAX_DURATION = Duration.ofDays(366);

    private final Map<String, Object> values;
    private final List<String> problems;

    ConfigReader(Map<String, Object> values, List<String> problems) {
        this.values = values;
        this.problems = problems;
    }

    void problem(String key, String message) {
        problems.add(key + ": " + message);
    }

    /** The trimmed string, or null when empty; a list where one value belongs is a problem, not a ClassCastException. */
    String string(String key) {
        Object value = values.get(key);
        if (value instanceof List<?>) {
            problem(key, "expected a single value, got a list");
            values.put(key, "");
            return null;
        }
        String text = (String) value;
        return text == null || text.isEmpty() ? null : text;
    }

    String string(String key, List<String> allowed) {
        String text = string(key);
        if (text != null && !allowed.contains(text)) {
            problem(key, "must be one of " + String.join(", ", allowed) + " (got '" + text + "')");
        }
        return text;
    }

    /** A list; a single value is read as a comma-separated list, as in the environment. */
    @SuppressWarnings("unchecked")
    List<String> list(String key) {
        Object value = values.get(key);
        if (value instanceof String text) {
            return RawConfig.splitList(text);
        }
        return value == null ? List.of() : (List<String>) value;
    }

    int integer(String key, int min, int max) {
        String text = string(key);
        try {
            int value = Integer.parseInt(text == null ? "" : text);
            if (value < min || value > max) {
                problem(key, "must be between " + min + " and " + max + " (got " + value + ")");
            }
            return value;
        } catch (NumberFormatException e) {
            problem(key, "must be a whole number (got '" + text + "')");
            return min;
        }
    }

    /** A count where 0 means unlimited. */
    int limit(String key) {
        return integer(key, 0, Integer.MAX_VALUE);
    }

    double decimal(String key, double min) {
        String text = string(key);
        try {
            double value = Double.parseDouble(text == null ? "" : text);
            if (!(value >= min) || Double.isInfinite(value)) {
                problem(key, "must be a number of at least " + min + " (got " + text + ")");
            }
            return value;
        } catch (NumberFormatException e) {
            problem(key, "must be a number (got '" + text + "')");
            return min;
        }
    }

    /** {@code 500ms}, {@code 30s}, {@code 15m}, {@code 1h}, {@code 2d}, or {@code 0}. */
    Duration duration(String key) {
        String text = string(key);
        if ("0".equals(text)) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(text == null ? "" : text);
        if (!m.matches()) {
            problem(key, "must be a duration such as 500ms, 30s, 15m, 1h or 2d (got '" + text + "')");
            return Duration.ofSeconds(1);
        }
        long amount = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
        if (d.compareTo(MAX_DURATION) > 0) {
            problem(key, "must be at most 366d (got '" + text + "')");
            return Duration.ofSeconds(1);
        }
        return d;
    }

    Duration positiveDuration(String key) {
        Duration d = duration(key);
        if (d.isZero()) {
            problem(key, "must be longer than 0");
            return Duration.ofSeconds(1);
        }
        return d;
    }

    /** An http(s) URL, or null when empty. */
    URI url(String key) {
        String text = string(key);
        if (text == null) {
            return null;
        }
        try {
            URI uri = new URI(text);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                problem(key, "must be an http:// or https:// URL (got '" + text + "')");
                return null;
            }
            return uri;
        } catch (URISyntaxException e) {
            problem(key, "is not a valid URL (" + e.getReason() + ")");
            return null;
        }
    }

    /**
     * A file the gateway may create and replace (its directory exists and is writable; the path is not
     * a directory), or null when empty.
     */
    Path writableFile(String key) {
        String text = string(key);
        if (text == null) {
            return null;
        }
        Path path = Path.of(text).toAbsolutePath();
        Path directory = path.getParent();
        if (java.nio.file.Files.isDirectory(path)) {
            problem(key, "is a directory, not a file: " + path);
        } else if (directory == null || !java.nio.file.Files.isDirectory(directory) || !java.nio.file.Files.isWritable(directory)) {
            problem(key, "directory " + directory + " does not exist or is not writable");
        }
        return path;
    }

    /** A readable file, or null when empty. */
    Path readableFile(String key) {
        String text = string(key);
        if (text == null) {
            return null;
        }
        Path path = Path.of(text);
        if (!java.nio.file.Files.isReadable(path) || java.nio.file.Files.isDirectory(path)) {
            problem(key, "file not found or not readable: " + path);
        }
        return path;
    }
}
