package dev.portcullis.gateway.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sections whose entries are keyed by channel or namespace: {@code channels.*} (name and
 * {@code prefix*} pattern lists, {@code namespace=value} maps), {@code history.channels}
 * ({@code pattern=size/ttl}) and {@code hooks.*} ({@code pattern=url}). They share the grammar of a
 * channel name, a pattern and a namespace, and the checks across those lists (an automatic channel
 * announced by join-leave, a namespace both encrypted and schema-checked); the listener, auth, broker
 * and limit sections in {@link ConfigLoader} need none of it, which is why it lives apart.
 *
 * <p>Like {@link ConfigLoader}: static and stateless, every problem goes to the {@link ConfigReader}
 * and the build goes on, so that one load reports them all. Runs on whichever thread loads the
 * configuration.
 */
final class ChannelSections {
    private ChannelSections() {}

    /** A {@code left=right} list entry split at its first {@code =}, both sides trimmed; malformed (both empty) without one. */
    private record Entry(String left, String right, boolean malformed) {
        static Entry of(String entry) {
            int eq = entry.indexOf('=');
            return eq < 0 ? new Entry("", "", true) : new Entry(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim(), false);
        }
    }

    private static final java.util.regex.Pattern CHANNEL = java.util.regex.Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static final java.util.regex.Pattern CHANNEL_PATTERN = java.util.regex.Pattern.compile("[A-Za-z0-9_.:-]{0,127}\\*?");
    private static final java.util.regex.Pattern NAMESPACE = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{0,127}");

    static ChannelsConfig channels(ConfigReader r) {
        for (String pattern : r.list("channels.public")) {
            if (!CHANNEL_PATTERN.matcher(pattern).matches() || pattern.isEmpty()) {
                r.problem("channels.public", "'" + pattern + "' is neither a channel name nor a prefix pattern ending in *");
            }
        }
        for (String key : List.of("channels.presence", "channels.join-leave", "channels.encrypted")) {
            for (String pattern : r.list(key)) {
                if (!CHANNEL_PATTERN.matcher(pattern).matches() || pattern.isEmpty()) {
                    r.problem(key, "'" + pattern + "' is neither a channel name nor a prefix pattern ending in *");
                }
            }
        }
        for (String channel : r.list("channels.auto-subscribe")) {
            for (String pattern : r.list("channels.join-leave")) {
                if (pattern.endsWith("*") ? channel.startsWith(pattern.substring(0, pattern.length() - 1)) : channel.equals(pattern)) {
                    // every connection is in it: each connect and disconnect would be sent to every connection
                    r.problem("channels.join-leave", "'" + pattern + "' matches the automatic channel '" + channel
                            + "': every connect and disconnect would be announced to every connection");
                }
            }
            if (!CHANNEL.matcher(channel).matches()) {
                r.problem("channels.auto-subscribe", "'" + channel + "' is not a channel name ([A-Za-z0-9_.:-]{1,128})");
            }
        }
        Map<String, Path> schemas = new java.util.LinkedHashMap<>();
        namespaceMap(r, "channels.schemas").forEach((namespace, file) -> {
            Path path = Path.of(file);
            if (!Files.isReadable(path) || Files.isDirectory(path)) {
                r.problem("channels.schemas", "schema file for namespace '" + namespace + "' not found or not readable: " + file);
            }
            schemas.put(namespace, path);
        });
        Map<String, String> sanitize = namespaceMap(r, "channels.sanitize");
        sanitize.forEach((namespace, mode) -> {
            if (!mode.equals(ChannelsConfig.SANITIZE_TEXT) && !mode.equals(ChannelsConfig.SANITIZE_NONE)) {
                r.problem("channels.sanitize", "mode for namespace '" + namespace + "' must be text or none (got '" + mode + "')");
            }
        });
        for (String namespace : ChannelsConfig.encryptedWithSchema(r.list("channels.encrypted"), schemas.keySet())) {
            r.problem("channels.encrypted", ChannelsConfig.encryptedSchemaOverlap(namespace));
        }
        String personal = r.string("channels.auto-subscribe-personal", List.of("true", "false"));
        return new ChannelsConfig(
                ConfigLoader.nonEmpty(r, "channels.permissions-claim"), r.list("channels.public"), r.list("channels.auto-subscribe"),
                "true".equals(personal), schemas, sanitize,
                r.string("channels.sanitize-default", List.of(ChannelsConfig.SANITIZE_TEXT, ChannelsConfig.SANITIZE_NONE)),
                "true".equals(r.string("channels.sanitize-backend", List.of("true", "false"))),
                r.list("channels.presence"), r.list("channels.join-leave"), r.list("channels.encrypted"));
    }

    /** {@code namespace=value} list entries as a map; problems name the key. */
    private static Map<String, String> namespaceMap(ConfigReader r, String key) {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        for (String entry : r.list(key)) {
            Entry parts = Entry.of(entry);
            String namespace = parts.left();
            String value = parts.right();
            if (parts.malformed() || value.isEmpty() || !NAMESPACE.matcher(namespace).matches()) {
                r.problem(key, "entries are namespace=value (got '" + entry + "')");
            } else if (map.put(namespace, value) != null) {
                r.problem(key, "namespace '" + namespace + "' is listed twice");
            }
        }
        return map;
    }

    private static final java.util.regex.Pattern HISTORY_RULE =
            java.util.regex.Pattern.compile("([A-Za-z0-9_.:-]{1,128}\\*?)=(\\d{1,7})/(\\d{1,9}(?:ms|s|m|h|d))");

    static HistoryConfig history(ConfigReader r) {
        List<HistoryConfig.Rule> rules = new ArrayList<>();
        for (String entry : r.list("history.channels")) {
            java.util.regex.Matcher m = HISTORY_RULE.matcher(entry);
            if (!m.matches()) {
                r.problem("history.channels", "entries are channel-or-prefix*=size/ttl, e.g. alerts=1000/24h (got '" + entry + "')");
                continue;
            }
            Duration ttl = ConfigLoader.parseDuration(m.group(3));
            if (ttl.compareTo(Duration.ofDays(30)) > 0) {
                r.problem("history.channels", "ttl of '" + m.group(1) + "' must be at most 30d");
            }
            rules.add(new HistoryConfig.Rule(m.group(1), Integer.parseInt(m.group(2)), ttl));
        }
        return new HistoryConfig(rules, r.integer("history.memory-bytes", 1 << 20, Integer.MAX_VALUE),
                r.integer("history.max-channels", 1, 10_000_000), r.positiveDuration("history.idempotency-window"),
                r.writableFile("history.snapshot-file"));
    }

    /** Longer answers would leave a publication waiting past any sensible client timeout. */
    private static final Duration MAX_HOOK_TIMEOUT = Duration.ofSeconds(30);

    static HooksConfig hooks(ConfigReader r) {
        List<HooksConfig.Route> publish = hookRoutes(r, "hooks.publish");
        List<HooksConfig.Route> subscribe = hookRoutes(r, "hooks.subscribe");
        String secret = r.string("hooks.secret");
        if (secret == null && (!publish.isEmpty() || !subscribe.isEmpty())) {
            r.problem("hooks.secret", "is required when hooks.publish or hooks.subscribe is set (every hook request is signed with it)");
        } else if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
            r.problem("hooks.secret", "must be at least 32 bytes (256 bits) long");
        }
        Duration timeout = r.positiveDuration("hooks.timeout");
        if (timeout.compareTo(MAX_HOOK_TIMEOUT) > 0) {
            r.problem("hooks.timeout", "must be at most 30s (the client waits that long for its ack)");
        }
        Duration wait = r.positiveDuration("hooks.breaker-wait");
        if (wait.compareTo(Duration.ofHours(1)) > 0) {
            r.problem("hooks.breaker-wait", "must be at most 1h");
        }
        return new HooksConfig(publish, subscribe, secret, timeout, r.integer("hooks.max-in-flight", 1, 100_000), wait);
    }

    /** {@code pattern=url} entries: a channel name or prefix pattern, and an http(s) URL without credentials. */
    private static List<HooksConfig.Route> hookRoutes(ConfigReader r, String key) {
        List<HooksConfig.Route> routes = new ArrayList<>();
        Set<String> patterns = new java.util.HashSet<>();
        for (String entry : r.list(key)) {
            Entry parts = Entry.of(entry);
            String pattern = parts.left();
            String url = parts.right();
            if (parts.malformed() || pattern.isEmpty() || !CHANNEL_PATTERN.matcher(pattern).matches()) {
                r.problem(key, "entries are channel-or-prefix*=url, e.g. room:*=https://app.internal/hooks/publish (got '" + entry + "')");
                continue;
            }
            if (!patterns.add(pattern)) {
                r.problem(key, "pattern '" + pattern + "' is listed twice");
                continue;
            }
            try {
                URI uri = new URI(url);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    r.problem(key, "the URL of '" + pattern + "' must be an http:// or https:// URL (got '" + url + "')");
                } else if (uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
                    r.problem(key, "the URL of '" + pattern + "' must have no user:password@ and no #fragment (requests are signed with hooks.secret instead)");
                } else {
                    routes.add(new HooksConfig.Route(pattern, uri));
                }
            } catch (URISyntaxException e) {
                r.problem(key, "the URL of '" + pattern + "' is not a valid URL (" + e.getReason() + ")");
            }
        }
        return routes;
    }
}
