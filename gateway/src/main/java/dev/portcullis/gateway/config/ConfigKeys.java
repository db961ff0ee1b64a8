package dev.portcullis.gateway.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every configuration key, its default and its meaning, in one list. The loader accepts only these
 * keys, the README's configuration table is checked against this list by a test, and
 * {@code portcullis check-config --keys} prints it.
 */
public final class ConfigKeys {
    public enum Kind {
        STRING,
        INT,
        DOUBLE,
        DURATION,
        LIST,
        URL,
        PATH
    }

    /** One key. {@code defaultValue} is written as a user would write it in YAML ("" for unset). */
    public record Key(String name, Kind kind, String defaultValue, String meaning) {
        /** {@code server.allowed-origins} becomes {@code PORTCULLIS_SERVER_ALLOWED_ORIGINS}. */
        public String envName() {
            return "PORTCULLIS_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        }
    }

    public static final List<Key> ALL = List.of(
            key("server.host", Kind.STRING, "0.0.0.0", "Address the WebSocket listener binds."),
            key("server.port", Kind.INT, "8080", "WebSocket listener port (0 picks a free port)."),
            key("server.warmup", Kind.STRING, "on",
                    "Before `/readyz` answers 200, run real handshakes, messages and fan-out over loopback against a throwaway gateway of the same process (nothing shows in metrics or state) until the JIT is quiet, for at most 10s: `on`, `off`, or a budget such as `5s` (at most 60s). Used by `serve`."),
            key("server.path", Kind.STRING, "/ws", "The only path that upgrades to WebSocket; other paths get 404."),
            key("server.allowed-origins", Kind.LIST, "",
                    "Accepted `Origin` headers (exact, e.g. `https://app.example.com`); empty accepts any. Required with cookie auth."),
            key("server.proxy-protocol", Kind.STRING, "false",
                    "`true`: every connection starts with a PROXY protocol v1/v2 header (HAProxy, AWS NLB) giving the client address; connections without one are dropped."),
            key("server.trusted-proxies", Kind.LIST, "",
                    "Proxy addresses or CIDRs (`10.0.0.0/8`) whose `X-Forwarded-For` is believed: the client is the rightmost address not in this list."),
            key("server.compression", Kind.STRING, "off",
                    "`on`: permessage-deflate (RFC 7692) for clients that offer it (browsers do), without context takeover: each publication is compressed once and the same frame goes to every compressing subscriber. Off by default: a 300-byte JSON alert shrinks only to ~0.7 (see BENCHMARKS.md)."),
            key("server.transport", Kind.STRING, "auto",
                    "How sockets are driven: `auto` (epoll where it loads, else NIO), `epoll`, `io_uring` or `nio`. `io_uring` needs a kernel and a container seccomp profile that allow it; in fan-out it makes one system call for many sockets instead of one each, with far fewer context switches (BENCHMARKS.md). One that cannot run here fails start-up and `check-config`."),
            key("server.io-threads", Kind.INT, "0",
                    "Event-loop threads for the connections; `0` is one per core. Fewer than the cores can cost less CPU per delivery where other processes share the cores (BENCHMARKS.md)."),
            key("server.tls.cert", Kind.PATH, "",
                    "PEM certificate chain; with `server.tls.key` turns on TLS (wss; TLS 1.3, and TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305 only). Reloaded when the file changes and on SIGHUP."),
            key("server.tls.key", Kind.PATH, "", "PEM private key (PKCS#8) for `server.tls.cert`; reloaded with it."),
            key("admin.host", Kind.STRING, "127.0.0.1", "Address the admin listener binds (metrics, health, backend API)."),
            key("admin.port", Kind.INT, "9090", "Admin listener port (0 picks a free port)."),
            key("admin.api-keys", Kind.LIST, "", "Bearer keys the backend API accepts (at least 16 characters each)."),
            key("admin.max-body-bytes", Kind.INT, "65536", "Largest backend API request body; larger gets 413."),
            key("admin.max-connections", Kind.INT, "64",
                    "Concurrent admin connections (1-256, inside the files the WebSocket cap keeps back); more get 503 and are closed."),
            key("admin.idle-timeout", Kind.DURATION, "60s", "An admin connection with no request in progress is closed after this."),
            key("admin.request-timeout", Kind.DURATION, "10s", "An admin request must arrive whole within this of its first byte; slower gets 408."),
            key("admin.tls.cert", Kind.PATH, "",
                    "PEM certificate chain; with `admin.tls.key` the admin listener serves HTTPS only (same TLS policy and reloading as `server.tls.cert`)."),
            key("admin.tls.key", Kind.PATH, "", "PEM private key (PKCS#8) for `admin.tls.cert`."),
            key("admin.tls.client-ca", Kind.PATH, "",
                    "PEM CA certificates; when set (needs `admin.tls.cert`), admin clients must present a certificate signed by one of them (mutual TLS)."),
            key("auth.hmac-secret", Kind.STRING, "", "Shared secret for HS256 tokens (at least 32 bytes)."),
            key("auth.public-key", Kind.STRING, "",
                    "PEM public key (RSA, EC or Ed25519), inline or a file path, for RS256/ES256/EdDSA tokens."),
            key("auth.jwks-url", Kind.URL, "", "JWKS endpoint; keys are cached and refreshed on an unknown `kid`."),
            key("auth.algorithms", Kind.LIST, "",
                    "Accepted JWS algorithms; empty: HS256 with a secret, RS256/ES256/EdDSA with a key or JWKS. `none` is never accepted."),
            key("auth.issuer", Kind.STRING, "", "Required `iss` claim; empty accepts any."),
            key("auth.audience", Kind.LIST, "", "Accepted `aud` values (one must match); empty accepts any."),
            key("auth.clock-skew", Kind.DURATION, "30s", "Tolerance applied to `exp` and `nbf`."),
            key("auth.reauth-interval", Kind.DURATION, "15m", "How often a connection must present a fresh token; 0 turns re-auth off."),
            key("auth.reauth-grace", Kind.DURATION, "30s", "Time the client has to answer a `reauth` request before close 4001."),
            key("auth.cookie-name", Kind.STRING, "", "Cookie that may carry the token; empty turns cookie auth off."),
            key("auth.jwks-refresh-min-interval", Kind.DURATION, "30s", "Least time between two JWKS fetches."),
            key("auth.jwks-cache-ttl", Kind.DURATION, "5m", "How long fetched JWKS keys are used before a refetch."),
            key("auth.max-token-lifetime", Kind.DURATION, "24h",
                    "Longest token lifetime issued; a revocation (logout) is remembered this long, and a token whose `exp` is further ahead is refused (401 `lifetime_too_long`)."),
            key("channels.permissions-claim", Kind.STRING, "channels",
                    "Token claim holding channel permissions: a map of channel or `prefix*` to `r`, `w` or `rw`."),
            key("channels.public", Kind.LIST, "", "Channels every authenticated user may read (patterns ending in `*` allowed)."),
            key("channels.auto-subscribe", Kind.LIST, "", "Channels every connection is subscribed to at connect time (e.g. `alerts`)."),
            key("channels.auto-subscribe-personal", Kind.STRING, "true",
                    "`true` subscribes every connection to its personal channel `user:<sub>` at connect time."),
            key("channels.schemas", Kind.LIST, "",
                    "JSON Schema files for the `data` of publications, per namespace: `chat=/etc/portcullis/chat.json`."),
            key("channels.sanitize", Kind.LIST, "",
                    "Sanitising per namespace, `namespace=text` or `namespace=none`; namespaces not listed use `channels.sanitize-default`."),
            key("channels.sanitize-default", Kind.STRING, "text",
                    "`text` strips HTML tags and control characters from every string of `data` and normalises to NFC; `none` passes it through."),
            key("channels.sanitize-backend", Kind.STRING, "false",
                    "`false` passes the backend API's `data` through as sent (it is the application's own voice, checked by API key; still schema-validated); `true` sanitises it like a client's."),
            key("channels.presence", Kind.LIST, "",
                    "Channels (or `prefix*` patterns) whose members a reader may list (`presence` request, `GET /api/channels/{channel}/presence`); empty: none."),
            key("channels.join-leave", Kind.LIST, "",
                    "Channels (or `prefix*` patterns) whose subscribers get `join` and `leave` events when someone subscribes or leaves (not an automatic channel); empty: none."),
            key("channels.encrypted", Kind.LIST, "",
                    "Channels (or `prefix*` patterns) that are end-to-end encrypted: publication `data` must be exactly the clients' envelope `{v, kid, iv, ct}` (anything else is refused with `invalid_message`) and is never sanitised; no namespace in `channels.schemas` may overlap them; empty: none."),
            key("history.channels", Kind.LIST, "alerts=1000/24h,user:*=100/24h",
                    "Channels that keep history for recovery, `channel-or-prefix*=size/ttl` (publications kept, and for how long)."),
            key("history.memory-bytes", Kind.INT, "67108864", "Budget of the in-memory history (embedded mode); the least recently published channels go first."),
            key("history.max-channels", Kind.INT, "100000", "Channels the in-memory history and offset table keep at most."),
            key("history.idempotency-window", Kind.DURATION, "5m", "How long a publish `idempotencyKey` suppresses a duplicate."),
            key("history.snapshot-file", Kind.PATH, "",
                    "`broker.type: local` only: the file the history (epochs, offsets, stored publications) is written to on graceful shutdown and read back (then removed) at start, so a restart keeps it; empty: a restart loses it. Not allowed with `broker.type: redis`."),
            key("broker.type", Kind.STRING, "local",
                    "`local` (one instance, in memory) or `redis` (any number of instances behave as one gateway)."),
            key("broker.redis-url", Kind.STRING, "",
                    "`redis://[user:password@]host:6379[/db]`, `rediss://...` (TLS) or `redis-sentinel://host:26379,host2:26379/0#mymaster`; with `broker.redis-cluster`, a comma-separated list of seed nodes."),
            key("broker.redis-cluster", Kind.STRING, "false", "`true` for Redis Cluster (sharded pub/sub, Redis 7+)."),
            key("broker.redis-timeout", Kind.DURATION, "2s", "Timeout of one Redis command; a slower Redis counts as down."),
            key("broker.redis-prefix", Kind.STRING, "portcullis", "Prefix of every Redis key and channel, so several gateways can share one Redis."),
            key("broker.instance-id", Kind.STRING, "", "This instance's id in presence and logs; empty picks a random one."),
            key("broker.presence-ttl", Kind.DURATION, "30s", "How long a silent instance's connections and channel members stay listed after it died (at least 1s; refreshed every third of it)."),
            key("broker.canary-interval", Kind.DURATION, "5s", "How often the end-to-end canary publishes through Redis."),
            key("broker.canary-timeout", Kind.DURATION, "2s", "A canary round trip slower than this (or lost) marks the broker degraded."),
            key("limits.connections-per-user", Kind.INT, "1", "Concurrent connections per user; the newest wins, older ones close with 4500."),
            key("limits.connect-attempts-per-user-per-minute", Kind.INT, "5", "Handshakes per user per minute; more get 429 with Retry-After."),
            key("limits.refusal-probes-per-ip-per-minute", Kind.INT, "30",
                    "\"Why was I refused?\" requests (`GET <server.path>` with `Accept: application/json`) per client address per minute; more get 429 `probe_rate`."),
            key("limits.connections-per-ip", Kind.INT, "100", "Concurrent connections per client address; more get 429."),
            key("limits.max-connections", Kind.INT, "100000", "Concurrent connections of this gateway; more get 503. Held below the open-file limit (5% of it, at least 256, kept for other files); 0: only that bound."),
            key("limits.max-message-bytes", Kind.INT, "10240", "Largest inbound message (all fragments); larger closes with 1009."),
            key("limits.handshake-timeout", Kind.DURATION, "10s", "Time from TCP accept to a completed upgrade; slower sockets are dropped."),
            key("limits.protocol-violations", Kind.INT, "10", "Bad messages (not JSON, unknown type) tolerated per window; one more closes with 4503."),
            key("limits.protocol-violation-window", Kind.DURATION, "60s", "The window for `limits.protocol-violations`."),
            key("limits.subscriptions-per-connection", Kind.INT, "64", "Channels one connection may subscribe to; more get `too_many_subscriptions`."),
            key("limits.messages-per-minute", Kind.INT, "50", "Inbound messages per connection per minute (token bucket refill)."),
            key("limits.message-burst", Kind.INT, "10", "Inbound messages a connection may send at once (token bucket capacity)."),
            key("limits.rate-limit-grace", Kind.DURATION, "10s",
                    "A connection still over its message rate this long after its first `rate_limited` closes with 4008."),
            key("limits.max-outbound-bytes", Kind.INT, "1048576",
                    "Unsent bytes a connection may hold; a connection over it past `limits.slow-consumer-grace` (or over twice it at once) closes with 4009."),
            key("limits.max-connection-age", Kind.DURATION, "0",
                    "Close connections older than this (minus up to 10% jitter) with 1001 and a reconnect hint, to rebalance after a scale-out; 0 keeps them."),
            key("limits.slow-consumer-grace", Kind.DURATION, "2s", "How long a connection may stay over `limits.max-outbound-bytes`."),
            key("heartbeat.interval", Kind.DURATION, "30s", "Server WebSocket ping interval."),
            key("heartbeat.timeout", Kind.DURATION, "10s", "No pong within this time after a ping closes the connection."),
            key("shutdown.drain-timeout", Kind.DURATION, "10s", "On shutdown, how long to wait for close handshakes after sending 1001."),
            key("alerts.spike-factor", Kind.DOUBLE, "5", "Connection-spike alert when attempts/s exceed this multiple of the baseline..."),
            key("alerts.spike-floor-per-second", Kind.DOUBLE, "50", "...and at least this many attempts per second."),
            key("alerts.spike-baseline", Kind.DURATION, "5m", "Time constant of the moving baseline of attempts per second."),
            key("alerts.webhook-url", Kind.URL, "", "Where a connection-spike alert is POSTed as JSON; empty for none."),
            key("hooks.publish", Kind.LIST, "",
                    "Publish hooks, `channel-or-prefix*=url` (http or https): a client publication into a matching channel is POSTed there first and published only if the backend accepts it."),
            key("hooks.subscribe", Kind.LIST, "",
                    "Subscribe hooks, `channel-or-prefix*=url`: a client `subscribe`, `history` or `presence` on a matching channel needs the backend's accept (answers may be cached for up to 5m)."),
            key("hooks.secret", Kind.STRING, "",
                    "Key of the HMAC-SHA256 signature on every hook request (at least 32 bytes); required when a hook is set."),
            key("hooks.timeout", Kind.DURATION, "2s", "A hook answer slower than this is a failure: the client gets `unavailable` and nothing happens."),
            key("hooks.max-in-flight", Kind.INT, "256", "Hook requests this instance has open at once; more are answered `unavailable` without a request."),
            key("hooks.breaker-wait", Kind.DURATION, "10s",
                    "How long a hook backend's open circuit breaker refuses calls before it lets probe requests through."),
            key("log.format", Kind.STRING, "text", "`text` or `json` (one JSON object per line)."),
            key("log.level", Kind.STRING, "info", "Root log level: error, warn, info, debug or trace (the Redis client stays at info at most: its debug lines carry publication data)."));

    private static final Map<String, Key> BY_NAME = index();

    private ConfigKeys() {}

    public static Key byName(String name) {
        return BY_NAME.get(name);
    }

    private static Key key(String name, Kind kind, String defaultValue, String meaning) {
        return new Key(name, kind, defaultValue, meaning);
    }

    private static Map<String, Key> index() {
        Map<String, Key> byName = new LinkedHashMap<>();
        for (Key key : ALL) {
            byName.put(key.name(), key);
        }
        return Map.copyOf(byName);
    }
}
