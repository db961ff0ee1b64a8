package dev.portcullis.gateway.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The one way to build a {@link GatewayConfig}: defaults, then an optional YAML file, then
 * {@code PORTCULLIS_*} environment variables, then code overrides; then every value is parsed and
 * checked, and all problems are thrown together in one {@link ConfigException}, each naming its key.
 */
public final class ConfigLoader {
    /** What {@code server.warmup: on} means; tuned by bench/scripts/coldstart.sh (BENCHMARKS.md, "Cold start"). */
    static final Duration DEFAULT_WARMUP = Duration.ofSeconds(10);
    /** A warm-up holds back readiness: a longer one would look like a hung start to an orchestrator. */
    static final Duration MAX_WARMUP = Duration.ofSeconds(60);

    /** JWS algorithms we verify; {@code none} is deliberately absent. */
    public static final Set<String> KNOWN_ALGORITHMS = Set.of(
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA", "Ed25519");

    private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    private ConfigLoader() {}

    /** Parses a duration as the configuration writes it ({@code 30s}, {@code 15m}); for CLI options. */
    public static Duration parseDuration(String text) {
        List<String> problems = new ArrayList<>();
        Duration d = new ConfigReader(Map.of("value", text.trim()), problems).positiveDuration("value");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.get(0).replace("value: ", ""));
        }
        return d;
    }

    /** Defaults and overrides only (tests, --dev). */
    public static GatewayConfig load(Map<String, ?> overrides) {
        return load(null, Map.of(), overrides);
    }

    /**
     * @param file YAML file, or null for none
     * @param env environment variables (pass {@code System.getenv()})
     * @param overrides keys set by code, applied last
     */
    public static GatewayConfig load(Path file, Map<String, String> env, Map<String, ?> overrides) {
        List<String> problems = new ArrayList<>();
        RawConfig raw = new RawConfig(problems);
        if (file != null) {
            raw.readYaml(file);
        }
        raw.readEnvironment(env);
        raw.override(overrides);
        ConfigReader r = new ConfigReader(raw.values(), problems);

        GatewayConfig config = new GatewayConfig(
                server(r), admin(r), auth(r), ChannelSections.channels(r), broker(r), ChannelSections.history(r), limits(r), heartbeat(r),
                new ShutdownConfig(r.positiveDuration("shutdown.drain-timeout")),
                alerts(r),
                ChannelSections.hooks(r),
                new LogConfig(
                        r.string("log.format", List.of("text", "json")),
                        r.string("log.level", List.of("error", "warn", "info", "debug", "trace"))));
        crossCheck(config, r);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    /** {@code on} (the default budget), {@code off}, or a budget such as {@code 5s}; {@code 0} is off too. */
    private static Duration warmup(ConfigReader r) {
        String text = r.string("server.warmup");
        if ("off".equals(text)) {
            return Duration.ZERO;
        }
        Duration budget = "on".equals(text) ? DEFAULT_WARMUP : r.duration("server.warmup");
        if (budget.compareTo(MAX_WARMUP) > 0) {
            r.problem("server.warmup", "must be at most " + MAX_WARMUP.toSeconds() + "s (got '" + text + "')");
        }
        return budget;
    }

    private static ServerConfig server(ConfigReader r) {
        String path = r.string("server.path");
        if (path == null || !path.startsWith("/") || path.contains("?") || path.contains("#")) {
            r.problem("server.path", "must start with / and have no query (got '" + path + "')");
        }
        List<String> origins = new ArrayList<>();
        for (String origin : r.list("server.allowed-origins")) {
            String normalized = normalizeOrigin(origin);
            if (normalized == null) {
                r.problem("server.allowed-origins", "'" + origin + "' is not an origin such as https://app.example.com");
            } else {
                origins.add(normalized);
            }
        }
        for (String proxy : r.list("server.trusted-proxies")) {
            if (!Cidr.valid(proxy)) {
                r.problem("server.trusted-proxies", "'" + proxy + "' is not an IP address or CIDR block such as 10.0.0.0/8");
            }
        }
        return new ServerConfig(
                nonEmpty(r, "server.host"), r.integer("server.port", 0, 65535), path, origins, tls(r, "server", false),
                "true".equals(r.string("server.proxy-protocol", List.of("true", "false"))), r.list("server.trusted-proxies"),
                compression(r), warmup(r),
                Objects.requireNonNullElse(r.string("server.transport", List.of("auto", "epoll", "io_uring", "nio")), "auto"),
                r.integer("server.io-threads", 0, 1024));
    }

    /**
     * {@code server.compression}: {@code on} or {@code off}. YAML 1.1 reads an unquoted {@code on}
     * or {@code off} as a boolean, which reaches us as {@code true} or {@code false}: both are taken.
     */
    private static boolean compression(ConfigReader r) {
        String value = r.string("server.compression", List.of("on", "off", "true", "false"));
        return "on".equals(value) || "true".equals(value);
    }

    /**
     * The form browsers send in {@code Origin}: lower-case scheme and host, no default port, no path;
     * null when {@code origin} is not one. {@code null} (the literal origin of sandboxed pages) stays.
     */
    public static String normalizeOrigin(String origin) {
        if (origin.equals("null")) {
            return origin;
        }
        try {
            URI uri = new URI(origin);
            String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (scheme == null || uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawQuery() != null
                    || uri.getRawFragment() != null || uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
                return null;
            }
            int port = uri.getPort();
            boolean defaultPort = port == -1 || scheme.equals("https") && port == 443 || scheme.equals("http") && port == 80;
            return scheme + "://" + uri.getHost().toLowerCase(java.util.Locale.ROOT) + (defaultPort ? "" : ":" + port);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static AdminConfig admin(ConfigReader r) {
        for (String apiKey : r.list("admin.api-keys")) {
            if (apiKey.length() < 16) {
                r.problem("admin.api-keys", "every key needs at least 16 characters");
                break;
            }
        }
        return new AdminConfig(nonEmpty(r, "admin.host"), r.integer("admin.port", 0, 65535), r.list("admin.api-keys"),
                r.integer("admin.max-body-bytes", 1024, 64 * 1024 * 1024), r.integer("admin.max-connections", 1, 256),
                r.positiveDuration("admin.idle-timeout"), r.positiveDuration("admin.request-timeout"), tls(r, "admin", true));
    }

    /**
     * {@code <listener>.tls.cert} and {@code .key} go together; {@code .client-ca} (where the
     * listener has one) needs them, since a client certificate is asked for only inside TLS.
     */
    private static TlsConfig tls(ConfigReader r, String listener, boolean clientCaKey) {
        String prefix = listener + ".tls.";
        Path cert = r.readableFile(prefix + "cert");
        Path key = r.readableFile(prefix + "key");
        if ((cert == null) != (key == null)) {
            r.problem(cert == null ? prefix + "cert" : prefix + "key", prefix + "cert and " + prefix + "key go together");
        }
        Path clientCa = clientCaKey ? r.readableFile(prefix + "client-ca") : null;
        if (clientCa != null && cert == null) {
            r.problem(prefix + "client-ca", "needs " + prefix + "cert and " + prefix + "key (client certificates are asked for only over TLS)");
        }
        return cert == null && key == null ? TlsConfig.DISABLED : new TlsConfig(cert, key, clientCa);
    }

    private static AuthConfig auth(ConfigReader r) {
        String secret = r.string("auth.hmac-secret");
        String publicKey = publicKeyPem(r);
        URI jwks = r.url("auth.jwks-url");
        int sources = (secret == null ? 0 : 1) + (publicKey == null ? 0 : 1) + (jwks == null ? 0 : 1);
        if (sources == 0) {
            r.problem("auth", "set one of auth.hmac-secret, auth.public-key or auth.jwks-url (or run `portcullis serve --dev`)");
        } else if (sources > 1) {
            r.problem("auth", "set only one of auth.hmac-secret, auth.public-key and auth.jwks-url");
        }
        if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
            r.problem("auth.hmac-secret", "must be at least 32 bytes (256 bits) long");
        }
        Set<String> algorithms = new LinkedHashSet<>(r.list("auth.algorithms"));
        for (String alg : algorithms) {
            if (!KNOWN_ALGORITHMS.contains(alg)) {
                r.problem("auth.algorithms", "unknown or forbidden algorithm '" + alg + "' (known: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)");
            }
        }
        if (algorithms.isEmpty()) {
            algorithms.addAll(secret != null ? List.of("HS256") : List.of("RS256", "ES256", "EdDSA"));
        }
        Duration skew = r.duration("auth.clock-skew");
        if (skew.compareTo(MAX_CLOCK_SKEW) > 0) {
            r.problem("auth.clock-skew", "must be at most 5m");
        }
        Duration reauthInterval = r.duration("auth.reauth-interval");
        if (!reauthInterval.isZero() && reauthInterval.toMillis() < 1000) {
            r.problem("auth.reauth-interval", "must be 0 (off) or at least 1s");
        }
        return new AuthConfig(
                secret, publicKey, jwks, algorithms, r.string("auth.issuer"), r.list("auth.audience"), skew,
                reauthInterval, r.positiveDuration("auth.reauth-grace"), r.string("auth.cookie-name"),
                r.duration("auth.jwks-refresh-min-interval"), r.positiveDuration("auth.jwks-cache-ttl"),
                r.positiveDuration("auth.max-token-lifetime"));
    }

    /** Inline PEM, or the contents of the file the value names. */
    private static String publicKeyPem(ConfigReader r) {
        String value = r.string("auth.public-key");
        if (value == null || value.startsWith("-----BEGIN")) {
            return value;
        }
        try {
            String pem = Files.readString(Path.of(value));
            if (!pem.contains("-----BEGIN")) {
                r.problem("auth.public-key", "file " + value + " holds no PEM block");
            }
            return pem;
        } catch (IOException | RuntimeException e) {
            r.problem("auth.public-key", "neither PEM text nor a readable PEM file: " + value);
            return null;
        }
    }

    private static BrokerConfig broker(ConfigReader r) {
        String type = r.string("broker.type", List.of(BrokerConfig.LOCAL, BrokerConfig.REDIS));
        boolean cluster = "true".equals(r.string("broker.redis-cluster", List.of("true", "false")));
        List<String> urlProblems = new java.util.ArrayList<>();
        List<String> urls = RedisUrls.parse(r.string("broker.redis-url"), urlProblems);
        urlProblems.forEach(p -> r.problem("broker.redis-url", p.substring("broker.redis-url: ".length())));
        if (BrokerConfig.REDIS.equals(type) && urls.isEmpty()) {
            r.problem("broker.redis-url", "is required with broker.type: redis");
        }
        if (!cluster && urls.size() > 1) {
            r.problem("broker.redis-url", "several URLs need broker.redis-cluster: true (or one redis-sentinel:// URL naming every sentinel)");
        }
        if (cluster && urls.stream().anyMatch(RedisUrls::isSentinel)) {
            r.problem("broker.redis-url", "a redis-sentinel:// URL cannot be used with broker.redis-cluster: true");
        }
        String prefix = r.string("broker.redis-prefix");
        if (prefix == null || !prefix.matches("[A-Za-z0-9_.-]{1,32}")) {
            r.problem("broker.redis-prefix", "must be 1 to 32 of [A-Za-z0-9_.-]");
        }
        String instance = r.string("broker.instance-id");
        if (instance != null && !instance.matches("[A-Za-z0-9_.-]{1,64}")) {
            r.problem("broker.instance-id", "must be 1 to 64 of [A-Za-z0-9_.-]");
        }
        if (instance == null) {
            instance = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        }
        Duration presenceTtl = r.positiveDuration("broker.presence-ttl");
        if (presenceTtl != null && presenceTtl.compareTo(Duration.ofSeconds(1)) < 0) {
            // the instance's heartbeat refreshes its liveness every third of the TTL: shorter would flap
            r.problem("broker.presence-ttl", "must be at least 1s (the heartbeat refreshes it every third of it); got " + presenceTtl);
        }
        return new BrokerConfig(type, urls, cluster, r.positiveDuration("broker.redis-timeout"), prefix, instance,
                presenceTtl, r.positiveDuration("broker.canary-interval"),
                r.positiveDuration("broker.canary-timeout"));
    }

    private static LimitsConfig limits(ConfigReader r) {
        return new LimitsConfig(
                r.limit("limits.connections-per-user"),
                r.limit("limits.connect-attempts-per-user-per-minute"),
                r.limit("limits.connections-per-ip"),
                r.limit("limits.max-connections"),
                r.integer("limits.max-message-bytes", 128, 16 * 1024 * 1024),
                r.positiveDuration("limits.handshake-timeout"),
                r.limit("limits.protocol-violations"),
                r.positiveDuration("limits.protocol-violation-window"),
                r.limit("limits.subscriptions-per-connection"),
                r.limit("limits.messages-per-minute"),
                r.integer("limits.message-burst", 1, 1_000_000),
                r.positiveDuration("limits.rate-limit-grace"),
                r.integer("limits.max-outbound-bytes", 16 * 1024, Integer.MAX_VALUE / 4),
                r.positiveDuration("limits.slow-consumer-grace"),
                r.duration("limits.max-connection-age"),
                r.limit("limits.refusal-probes-per-ip-per-minute"));
    }

    private static HeartbeatConfig heartbeat(ConfigReader r) {
        Duration interval = r.positiveDuration("heartbeat.interval");
        Duration timeout = r.positiveDuration("heartbeat.timeout");
        if (interval.compareTo(Duration.ofHours(1)) > 0) {
            r.problem("heartbeat.interval", "must be at most 1h (idle proxies drop silent connections long before that)");
        }
        if (timeout.compareTo(Duration.ofHours(1)) > 0) {
            r.problem("heartbeat.timeout", "must be at most 1h");
        }
        return new HeartbeatConfig(interval, timeout);
    }

    private static AlertsConfig alerts(ConfigReader r) {
        return new AlertsConfig(
                r.decimal("alerts.spike-factor", 1.0),
                r.decimal("alerts.spike-floor-per-second", 0.0),
                r.positiveDuration("alerts.spike-baseline"),
                r.url("alerts.webhook-url"));
    }

    private static void crossCheck(GatewayConfig c, ConfigReader r) {
        if (c.auth().cookieEnabled() && c.server().allowedOrigins().isEmpty()) {
            r.problem("server.allowed-origins", "must list the allowed origins when auth.cookie-name is set (cookies ride along on cross-site WebSocket requests)");
        }
        if (c.history().snapshotFile() != null && c.broker().redis()) {
            r.problem("history.snapshot-file", "applies to broker.type: local only (with redis the history lives in Redis); remove it");
        }
        if (c.server().port() != 0 && c.server().port() == c.admin().port()) {
            r.problem("admin.port", "must differ from server.port (" + c.server().port() + ")");
        }
    }

    static String nonEmpty(ConfigReader r, String key) {
        String value = r.string(key);
        if (value == null) {
            r.problem(key, "must not be empty");
        }
        return value;
    }
}
