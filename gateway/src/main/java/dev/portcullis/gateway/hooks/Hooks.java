package dev.portcullis.gateway.hooks;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.config.HooksConfig;
import dev.portcullis.gateway.metrics.HookMetrics;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.PublicationData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application backend's say over client requests: {@code hooks.publish} sees a client's
 * publication before it is published and may accept it, accept it with replacement data, or reject
 * it; {@code hooks.subscribe} decides a {@code subscribe} (and a {@code history} read or
 * {@code presence} listing) live, for example room membership, which a token issued an hour ago
 * cannot know. Requests are signed
 * ({@link HookSigner}) and sent by {@link HookTransport}.
 *
 * <p>Fail closed: when no decision arrives (timeout, error, breaker open, too many requests open) the
 * request is not done and the client gets {@code unavailable}. Letting it through instead would make
 * an outage of the backend an outage of its checks.
 *
 * <p>The publication the backend sees is what would be published: the client's data after
 * sanitising and schema check. Replacement data is the backend's own voice: it passes the namespace's
 * schema but is not sanitised (unless {@code channels.sanitize-backend}), like the backend API's. On an
 * encrypted channel ({@code channels.encrypted}) both are the ciphertext envelope: the backend sees
 * no plaintext, and a replacement that is not an envelope is refused (nothing is published).
 *
 * <p>A subscribe answer may carry {@code cacheSeconds} (at most {@value #MAX_CACHE_SECONDS}): the
 * answer, accept or reject, is then reused for that user and channel on this instance for that long,
 * in a cache of at most {@value #MAX_CACHE_ENTRIES} entries.
 *
 * <p>Threading: every method is safe from any thread and returns at once; the futures complete on
 * the hooks' own threads, never on the caller's.
 */
public final class Hooks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Hooks.class);
    static final int MAX_CACHE_SECONDS = 300;
    static final int MAX_CACHE_ENTRIES = 100_000;
    static final int MAX_MESSAGE_CHARS = 200;
    private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    private static final JsonFactory JSON = new JsonFactory();
    private static final HookResult SUBSCRIBE_ACCEPTED = new HookResult.Accepted(null);

    /** No hooks: every request goes ahead as before. */
    public static final Hooks NONE = new Hooks();

    private final HookRoutes publishRoutes;
    private final HookRoutes subscribeRoutes;
    private final HookTransport transport;
    private final PublicationData replacements;
    private final DecisionCache subscribeAnswers;
    private final HookMetrics metrics;
    private final Clock clock;

    private Hooks() {
        this.publishRoutes = new HookRoutes(java.util.List.of());
        this.subscribeRoutes = publishRoutes;
        this.transport = null;
        this.replacements = null;
        this.subscribeAnswers = null;
        this.metrics = null;
        this.clock = null;
    }

    private Hooks(HooksConfig config, PublicationData replacements, HookMetrics metrics, Clock clock) {
        this.publishRoutes = new HookRoutes(config.publish());
        this.subscribeRoutes = new HookRoutes(config.subscribe());
        this.transport = new HookTransport(config, metrics, clock);
        this.replacements = replacements;
        this.subscribeAnswers = new DecisionCache(MAX_CACHE_ENTRIES);
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * @param replacements checks (and, with {@code channels.sanitize-backend}, sanitises) the
     *     backend's replacement data: the backend API's {@link PublicationData}
     * @return {@link #NONE} when {@code config} sets no hook
     */
    public static Hooks create(HooksConfig config, PublicationData replacements, HookMetrics metrics, Clock clock) {
        if (!config.enabled()) {
            return NONE;
        }
        log.info("hooks: publish {}, subscribe {} (timeout {}, at most {} requests open, breaker wait {})", config.publish(),
                config.subscribe(), config.timeout(), config.maxInFlight(), config.breakerWait());
        return new Hooks(config, replacements, metrics, clock);
    }

    /**
     * Builds what {@link #create} builds without opening anything: the signing key and the breaker
     * settings ({@code check-config}).
     *
     * @throws IllegalArgumentException naming the key
     */
    public static void validate(HooksConfig config) {
        if (!config.enabled()) {
            return;
        }
        try {
            new HookSigner(config.secret());
            HookTransport.breakerConfig(config.breakerWait());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("hooks: " + e.getMessage(), e);
        }
    }

    public boolean hooksPublish(String channel) {
        return !publishRoutes.isEmpty() && publishRoutes.find(channel) != null;
    }

    public boolean hooksSubscribe(String channel) {
        return !subscribeRoutes.isEmpty() && subscribeRoutes.find(channel) != null;
    }

    /**
     * Asks the publish hook of {@code channel} (accepted at once when there is none).
     *
     * @param dataJson the client's data as it would be published (sanitised, schema-checked)
     * @param idempotencyKey the key the publication will be published with (the client's, or the one the broker
     *     makes up: {@code Broker.idempotencyKeyFor}), or null
     */
    public CompletableFuture<HookResult> publish(
            String channel, String namespace, String user, String connection, String dataJson, String idempotencyKey) {
        URI url = publishRoutes.find(channel);
        if (url == null) {
            return CompletableFuture.completedFuture(new HookResult.Accepted(dataJson));
        }
        byte[] body = body("publish", channel, user, connection, dataJson, idempotencyKey);
        return transport.call("publish", url, body).handle((answer, failure) -> {
            if (failure != null) {
                return unavailable("publish", failure);
            }
            if (isReject(answer)) {
                return rejected("publish", answer);
            }
            JsonNode replacement = answer.get("data");
            if (replacement == null) {
                metrics.result("publish", "accept");
                return new HookResult.Accepted(dataJson);
            }
            try {
                String replaced = replacements.prepare(channel, namespace, replacement);
                metrics.result("publish", "accept");
                return new HookResult.Accepted(replaced);
            } catch (ProtocolException e) {
                // the message names the failing field, never the data
                log.warn("the publish hook of a channel in namespace '{}' answered data the channel does not accept: {}", namespace, e.getMessage());
                metrics.result("publish", "error");
                return new HookResult.Unavailable("the application's backend answered data this channel does not accept; nothing was published");
            }
        });
    }

    /** Asks the subscribe hook of {@code channel} (accepted at once when there is none), or takes a cached answer. */
    public CompletableFuture<HookResult> subscribe(String channel, String user, String connection) {
        URI url = subscribeRoutes.find(channel);
        if (url == null) {
            return CompletableFuture.completedFuture(SUBSCRIBE_ACCEPTED);
        }
        String key = DecisionCache.key(user, channel);
        HookResult cached = subscribeAnswers.get(key, clock.millis());
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        byte[] body = body("subscribe", channel, user, connection, null, null);
        return transport.call("subscribe", url, body).handle((answer, failure) -> {
            if (failure != null) {
                return unavailable("subscribe", failure);
            }
            HookResult result;
            if (isReject(answer)) {
                result = rejected("subscribe", answer);
            } else {
                metrics.result("subscribe", "accept");
                result = SUBSCRIBE_ACCEPTED;
            }
            long seconds = Math.min(answer.path("cacheSeconds").asLong(0), MAX_CACHE_SECONDS);
            if (seconds > 0) {
                subscribeAnswers.put(key, result, clock.millis() + seconds * 1000);
            }
            return result;
        });
    }

    private static boolean isReject(JsonNode answer) {
        return "reject".equals(answer.path("result").asText());
    }

    private HookResult rejected(String hook, JsonNode answer) {
        metrics.result(hook, "reject");
        String code = answer.path("code").asText("");
        String message = answer.path("message").asText("");
        if (message.isBlank()) {
            message = "rejected by the application";
        } else if (message.length() > MAX_MESSAGE_CHARS) {
            int end = Character.isHighSurrogate(message.charAt(MAX_MESSAGE_CHARS - 1)) ? MAX_MESSAGE_CHARS - 1 : MAX_MESSAGE_CHARS;
            message = message.substring(0, end);
        }
        return new HookResult.Rejected(CODE.matcher(code).matches() ? code : "rejected", message);
    }

    private HookResult unavailable(String hook, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        String outcome = cause instanceof HookFailure hookFailure ? hookFailure.outcome() : "error";
        if (!(cause instanceof HookFailure)) {
            log.warn("{} hook failed unexpectedly", hook, cause);
        }
        metrics.result(hook, outcome);
        return new HookResult.Unavailable(switch (outcome) {
            case "timeout" -> "the application's backend did not answer in time; retry later";
            case "breaker_open" -> "the application's backend is failing; retry later";
            case "overloaded" -> "too many requests to the application's backend are open; retry later";
            default -> "the application's backend failed; retry later";
        });
    }

    /** The request body; {@code dataJson} is written as it is (it is JSON text already). */
    private static byte[] body(String hook, String channel, String user, String connection, String dataJson, String idempotencyKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + (dataJson == null ? 0 : dataJson.length()));
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("hook", hook);
            json.writeStringField("channel", channel);
            json.writeStringField("user", user);
            json.writeStringField("connection", connection);
            if (dataJson != null) {
                json.writeFieldName("data");
                json.writeRawValue(dataJson);
            }
            if (idempotencyKey != null) {
                json.writeStringField("idempotencyKey", idempotencyKey);
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        if (transport != null) {
            transport.close();
        }
    }
}
