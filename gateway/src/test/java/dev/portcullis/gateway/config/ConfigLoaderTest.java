package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @Test
    void defaultsMatchTheSpecification() {
        GatewayConfig c = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET));
        assertThat(c.server().port()).isEqualTo(8080);
        assertThat(c.server().path()).isEqualTo("/ws");
        assertThat(c.admin().port()).isEqualTo(9090);
        assertThat(c.auth().reauthInterval()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.auth().algorithms()).containsExactly("HS256");
        assertThat(c.limits().connectionsPerUser()).isEqualTo(1);
        assertThat(c.limits().connectAttemptsPerUserPerMinute()).isEqualTo(5);
        assertThat(c.limits().connectionsPerIp()).isEqualTo(100);
        assertThat(c.limits().maxMessageBytes()).isEqualTo(10240);
        assertThat(c.heartbeat().interval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.heartbeat().timeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.server().tls().enabled()).isFalse();
        assertThat(c.auth().cookieEnabled()).isFalse();
        assertThat(c.server().transport()).isEqualTo("auto");
        assertThat(c.server().ioThreads()).isZero();
        assertThat(c.server().ioThreadsOrCores()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void yamlFileThenEnvironmentThenOverrides(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, """
                server:
                  port: 7000
                  allowed-origins: [https://a.example.com, https://b.example.com]
                auth:
                  hmac-secret: %s
                  reauth-interval: 1h
                limits:
                  connections-per-user: 3
                heartbeat:
                  interval: 500ms
                """.formatted(SECRET));
        GatewayConfig c = ConfigLoader.load(file, Map.of(
                "PORTCULLIS_SERVER_PORT", "7001",
                "PORTCULLIS_ADMIN_API_KEYS", "key-one-0123456789, key-two-0123456789",
                "PORTCULLIS_BENCH_SECRET", "the load generator's, not a key of ours",
                "PORTCULLIS_JAVA_OPTS", "-Xmx1g",
                "HOME", "/root"), Map.of("limits.connections-per-user", "4"));
        assertThat(c.server().port()).isEqualTo(7001);
        assertThat(c.server().allowedOrigins()).containsExactly("https://a.example.com", "https://b.example.com");
        assertThat(c.admin().apiKeys()).containsExactly("key-one-0123456789", "key-two-0123456789");
        assertThat(c.auth().reauthInterval()).isEqualTo(Duration.ofHours(1));
        assertThat(c.limits().connectionsPerUser()).isEqualTo(4);
        assertThat(c.heartbeat().interval()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void everyProblemIsReportedWithItsKey() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(
                "PORTCULLIS_SERVER_PORT", "80000",
                "PORTCULLIS_HEARTBEAT_INTERVAL", "30",
                "PORTCULLIS_LIMITS_CONNECTIONS_PER_IP", "-1",
                "PORTCULLIS_LIMITS_MAX_MESSAGE_BYTES", "lots",
                "PORTCULLIS_AUTH_HMAC_SECRET", "short",
                "PORTCULLIS_AUTH_ALGORITHMS", "HS256,none",
                "PORTCULLIS_LOG_FORMAT", "xml",
                "PORTCULLIS_SERVER_TRANSPORT", "kqueue",
                "PORTCULLIS_SERVER_IO_THREADS", "-1",
                "PORTCULLIS_SERVER_PATHH", "/x"), Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("server.port: must be between 0 and 65535"))
                        .anyMatch(p -> p.startsWith("heartbeat.interval: must be a duration"))
                        .anyMatch(p -> p.startsWith("limits.connections-per-ip:"))
                        .anyMatch(p -> p.startsWith("limits.max-message-bytes: must be a whole number"))
                        .anyMatch(p -> p.startsWith("auth.hmac-secret: must be at least 32 bytes"))
                        .anyMatch(p -> p.startsWith("auth.algorithms: unknown or forbidden algorithm 'none'"))
                        .anyMatch(p -> p.startsWith("log.format: must be one of text, json"))
                        .anyMatch(p -> p.startsWith("server.transport: must be one of auto, epoll, io_uring, nio (got 'kqueue')"))
                        .anyMatch(p -> p.startsWith("server.io-threads: must be between 0 and 1024"))
                        .anyMatch(p -> p.startsWith("PORTCULLIS_SERVER_PATHH: no such configuration key")));
    }

    @Test
    void compressionIsOffByDefaultAndUnquotedYamlOnOffWorks(@TempDir Path dir) throws Exception {
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET)).server().compression()).isFalse();
        Path file = dir.resolve("c.yaml");
        for (String value : List.of("off", "on", "\"off\"")) { // YAML reads an unquoted on/off as a boolean
            Files.writeString(file, "server:\n  compression: " + value + "\nauth:\n  hmac-secret: " + SECRET + "\n");
            assertThat(ConfigLoader.load(file, Map.of(), Map.of()).server().compression()).as(value).isEqualTo(value.equals("on"));
        }
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "server.compression", "maybe")))
                .hasMessageContaining("server.compression: must be one of on, off");
    }

    @Test
    void unknownKeysInTheFileAreRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "auth:\n  hmac-secret: " + SECRET + "\nlimits:\n  max-conections: 5\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), Map.of()))
                .hasMessageContaining("limits.max-conections: no such configuration key");
    }

    @Test
    void aValueOfTheWrongShapeIsAProblemNamingTheKey(@TempDir Path dir) throws Exception {
        // A list for a single value used to be a ClassCastException when it came through code overrides.
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "server.path", List.of("/a", "/b"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("server.path: expected a single value, got a list");
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "server:\n  path: [/a, /b]\n\"\": 1\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), Map.of("auth.hmac-secret", SECRET)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("server.path: expected a single value, got array")
                .hasMessageContaining("'': no such configuration key");
        // A single value for a list key is a comma-separated list, as in the environment.
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "server.allowed-origins", "https://a.example, https://b.example"))
                .server().allowedOrigins()).containsExactly("https://a.example", "https://b.example");
    }

    @Test
    void aKeySourceIsRequiredAndOnlyOne() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of())).hasMessageContaining("set one of auth.hmac-secret");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "auth.jwks-url", "https://x.example.com/jwks")))
                .hasMessageContaining("set only one of");
    }

    @Test
    void presenceKeysTakeChannelPatternsAndTheTtlOutlastsTheHeartbeat() {
        GatewayConfig config = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.presence", List.of("room:*", "lobby"),
                "channels.join-leave", List.of("room:*")));
        assertThat(config.channels().presence()).containsExactly("room:*", "lobby");
        assertThat(config.channels().joinLeave()).containsExactly("room:*");
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET)).channels().presence()).isEmpty();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.presence", List.of("room 1"),
                "channels.join-leave", List.of("a*b"))))
                .hasMessageContaining("channels.presence: 'room 1' is neither a channel name nor a prefix pattern ending in *")
                .hasMessageContaining("channels.join-leave: 'a*b' is neither");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.auto-subscribe", List.of("alerts"),
                "channels.join-leave", List.of("al*"))))
                .hasMessageContaining("channels.join-leave: 'al*' matches the automatic channel 'alerts'");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "broker.presence-ttl", "500ms")))
                .hasMessageContaining("broker.presence-ttl: must be at least 1s");
    }

    @Test
    void encryptedChannelsTakeChannelPatternsAndNoNamespaceWithASchema() {
        GatewayConfig config = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.encrypted", List.of("secret:*", "vault")));
        assertThat(config.channels().encrypted()).containsExactly("secret:*", "vault");
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET)).channels().encrypted()).isEmpty();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.encrypted", List.of("a*b"))))
                .hasMessageContaining("channels.encrypted: 'a*b' is neither a channel name nor a prefix pattern ending in *");
        Path schema = Path.of("..", "examples", "chat.schema.json");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.encrypted", List.of("ch*"),
                "channels.schemas", List.of("chat=" + schema))))
                .hasMessageContaining("channels.encrypted: matches channels in namespace 'chat', which has a schema in channels.schemas");
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.encrypted", List.of("secret:*"),
                "channels.schemas", List.of("chat=" + schema))).channels().schemas()).containsKey("chat");
    }

    @Test
    void cookieAuthNeedsAnOriginAllowList() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "auth.cookie-name", "t")))
                .hasMessageContaining("server.allowed-origins: must list the allowed origins when auth.cookie-name is set");
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "auth.cookie-name", "t",
                "server.allowed-origins", List.of("https://app.example.com"))).auth().cookieEnabled()).isTrue();
    }

    @Test
    void theHistorySnapshotFileNeedsAWritableDirectoryAndTheLocalBroker(@TempDir Path dir) throws Exception {
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET)).history().snapshotFile()).as("off by default").isNull();
        Path file = dir.resolve("history.snapshot");
        assertThat(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "history.snapshot-file", file.toString())).history().snapshotFile())
                .isEqualTo(file);
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "history.snapshot-file", "/nonexistent/dir/h.snapshot")))
                .hasMessageContaining("history.snapshot-file: directory /nonexistent/dir does not exist or is not writable");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "history.snapshot-file", dir.toString())))
                .hasMessageContaining("history.snapshot-file: is a directory");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "history.snapshot-file", file.toString(),
                        "broker.type", "redis", "broker.redis-url", "redis://127.0.0.1:6379")))
                .hasMessageContaining("history.snapshot-file: applies to broker.type: local only");
    }

    @Test
    void tlsNeedsBothFilesAndTheyMustExist() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "server.tls.cert", "/nonexistent/cert.pem")))
                .hasMessageContaining("server.tls.cert: file not found")
                .hasMessageContaining("server.tls.cert and server.tls.key go together");
    }

    @Test
    void adminTlsNeedsCertAndKeyAndAClientCaNeedsThem(@TempDir Path dir) throws Exception {
        Path pem = Files.writeString(dir.resolve("any.pem"), "not checked by the loader");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.tls.cert", pem.toString())))
                .hasMessageContaining("admin.tls.key: admin.tls.cert and admin.tls.key go together");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.tls.key", pem.toString())))
                .hasMessageContaining("admin.tls.cert: admin.tls.cert and admin.tls.key go together");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.tls.client-ca", pem.toString())))
                .hasMessageContaining("admin.tls.client-ca: needs admin.tls.cert and admin.tls.key");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.tls.cert", pem.toString(),
                "admin.tls.key", pem.toString(), "admin.tls.client-ca", "/nonexistent/ca.pem")))
                .hasMessageContaining("admin.tls.client-ca: file not found");

        TlsConfig plain = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET)).admin().tls();
        assertThat(plain.enabled()).isFalse();
        TlsConfig mutual = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.tls.cert", pem.toString(),
                "admin.tls.key", pem.toString(), "admin.tls.client-ca", pem.toString())).admin().tls();
        assertThat(mutual.enabled()).isTrue();
        assertThat(mutual.clientAuth()).isTrue();
    }

    @Test
    void zeroMeansUnlimitedAndDurationsTakeUnits() {
        GatewayConfig c = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "limits.max-connections", "0",
                "auth.reauth-interval", "0", "shutdown.drain-timeout", "2d"));
        assertThat(c.limits().maxConnections()).isZero();
        assertThat(c.auth().reauthInterval()).isZero();
        assertThat(c.shutdown().drainTimeout()).isEqualTo(Duration.ofDays(2));
        assertThat(ConfigLoader.parseDuration("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThatThrownBy(() -> ConfigLoader.parseDuration("15 minutes")).hasMessageContaining("must be a duration");
    }

    @Test
    void publicKeyMayBeAFilePath(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("key.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        assertThat(ConfigLoader.load(Map.of("auth.public-key", pem.toString())).auth().publicKeyPem()).startsWith("-----BEGIN");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.public-key", dir.resolve("missing.pem").toString())))
                .hasMessageContaining("auth.public-key: neither PEM text nor a readable PEM file");
    }

    @Test
    void secretsAreRedactedInToString() {
        GatewayConfig c = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "admin.api-keys", List.of("api-key-0123456789abc")));
        assertThat(c.toString()).doesNotContain(SECRET).doesNotContain("api-key-0123456789abc");
    }

    @Test
    void everyKeyHasAnEnvironmentName() {
        assertThat(ConfigKeys.byName("limits.connect-attempts-per-user-per-minute").envName())
                .isEqualTo("PORTCULLIS_LIMITS_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE");
        assertThat(ConfigKeys.ALL).extracting(ConfigKeys.Key::name).doesNotHaveDuplicates();
    }

    /** Issue 16 point 4: the documented multi-sentinel URL, and several Sentinel URLs, become one URL naming every sentinel. */
    @Test
    void sentinelUrlsKeepEverySentinel() {
        Map<String, Object> base = Map.of("auth.hmac-secret", SECRET, "broker.type", "redis");
        GatewayConfig one = ConfigLoader.load(with(base, "broker.redis-url", "redis-sentinel://h1:26379,h2:26380/0#mymaster"));
        assertThat(one.broker().redisUrls()).containsExactly("redis-sentinel://h1:26379,h2:26380/0#mymaster");
        GatewayConfig env = ConfigLoader.load(null, Map.of("PORTCULLIS_AUTH_HMAC_SECRET", SECRET, "PORTCULLIS_BROKER_TYPE", "redis",
                "PORTCULLIS_BROKER_REDIS_URL", "redis-sentinel://:pw@h1:26379, h2:26380 ,h3:26381/2#m1"), Map.of());
        assertThat(env.broker().redisUrls()).containsExactly("redis-sentinel://:pw@h1:26379,h2:26380,h3:26381/2#m1");
        GatewayConfig several = ConfigLoader.load(with(base, "broker.redis-url",
                "redis-sentinel://h1:26379#mymaster, redis-sentinel://h2:26379,h3:26379#mymaster"));
        assertThat(several.broker().redisUrls()).containsExactly("redis-sentinel://h1:26379,h2:26379,h3:26379#mymaster");
        assertThatThrownBy(() -> ConfigLoader.load(with(base, "broker.redis-url",
                "redis-sentinel://h1:26379#a,redis-sentinel://h2:26379#b")))
                .hasMessageContaining("broker.redis-url: the redis-sentinel:// URLs must name the same master");
        assertThatThrownBy(() -> ConfigLoader.load(with(base, "broker.redis-url", "redis-sentinel://h1:26379,h2:26379/0")))
                .hasMessageContaining("names no master");
        assertThatThrownBy(() -> ConfigLoader.load(with(base, "broker.redis-url", "redis://a:6379,redis://b:6379")))
                .hasMessageContaining("several URLs need broker.redis-cluster: true");
        assertThat(ConfigLoader.load(with(with(base, "broker.redis-cluster", "true"), "broker.redis-url", "redis://a:6379,redis://b:6379"))
                .broker().redisUrls()).containsExactly("redis://a:6379", "redis://b:6379");
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> copy = new java.util.HashMap<>(base);
        copy.put(key, value);
        return copy;
    }

    @Test
    void warmupIsOnOffOrABoundedBudget() {
        Map<String, Object> base = Map.of("auth.hmac-secret", "0123456789abcdef0123456789abcdef");
        java.util.function.Function<String, Duration> warmup = value -> {
            Map<String, Object> settings = new java.util.HashMap<>(base);
            settings.put("server.warmup", value);
            return ConfigLoader.load(settings).server().warmup();
        };
        assertThat(ConfigLoader.load(base).server().warmup()).as("default on").isEqualTo(ConfigLoader.DEFAULT_WARMUP);
        assertThat(warmup.apply("on")).isEqualTo(ConfigLoader.DEFAULT_WARMUP);
        assertThat(warmup.apply("off")).isZero();
        assertThat(warmup.apply("0")).isZero();
        assertThat(warmup.apply("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> warmup.apply("61s")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.problems()).anyMatch(p -> p.startsWith("server.warmup: must be at most 60s")));
        assertThatThrownBy(() -> warmup.apply("yes")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.problems()).anyMatch(p -> p.startsWith("server.warmup: must be a duration")));
    }
}
