package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A connection to a Portcullis gateway that stays up: it reconnects with backoff, restores its
 * subscriptions from the last delivered offsets, de-duplicates, answers re-auth requests and holds
 * publications while disconnected.
 *
 * <pre>{@code
 * PortcullisClient client = PortcullisClient.builder(URI.create("wss://rt.example.com/ws"))
 *         .token(() -> tokenService.fetch())
 *         .listener(new ConnectionListener() { ... })
 *         .build();
 * client.connect();
 * Subscription alerts = client.subscribe("alerts", message -> show(message.data()));
 * client.publish("room:1", "{\"text\":\"hi\"}").thenAccept(offset -> ...);
 * client.close();
 * }</pre>
 *
 * <h2>Threading</h2>
 * Every client owns one thread (a daemon named {@code portcullis-client-N}). All its state lives on
 * it, and every listener call ({@link ConnectionListener}, {@link SubscriptionListener}) runs on it,
 * one at a time, in the order the events happened. The client reads only a few frames ahead of its
 * listeners, so a slow listener slows the connection down (back-pressure) rather than filling
 * memory; a server that cannot write to it long enough closes it as a slow consumer (4009), and the
 * client reconnects and recovers. Every method here may be called from any thread,
 * including from a listener, and never blocks, except {@link #close()}. Futures complete on the
 * client thread: do not block in their callbacks either. The token supplier runs on its own virtual
 * thread and may block.
 *
 * <h2>Ordering and delivery</h2>
 * Per channel, messages are delivered in offset order, each at most once. Across a reconnect the
 * client resubscribes with {@code since} = the last delivered {offset, epoch}; the server then
 * either replays what was missed ({@link Subscribed#recovered()} true: nothing lost) or says it
 * cannot ({@code recovered} false: reload state). A message carrying a new epoch is reported the same
 * way before it is delivered. There is no ordering across channels.
 *
 * <h2>Publishing</h2>
 * {@link #publish} completes with the publication's offset when the server acknowledged it. While
 * disconnected, publications wait in a bounded queue and are sent in order after the next
 * {@code connected} (after the subscriptions were restored). At most {@link Builder#offlineQueue}
 * publications may be pending in total (queued, or sent and awaiting their ack); one more fails at
 * once with {@link OfflineQueueFullException}, before {@code publish} returns. A publication sent
 * but not acknowledged when the connection drops fails with {@link ConnectionLostException} (outcome
 * unknown; never resent, so never duplicated by the client). Requests are paced by
 * {@link Builder#sendRate} to stay under the gateway's message rate (a gateway closes a connection
 * that keeps exceeding it with 4008); should the server still answer {@code rate_limited}, the
 * client pauses for its {@code retryAfterMs} and resends the refused requests in their order.
 * Publications go out in call order and are published in that order, with one exception: if the
 * server refuses one for its rate while later ones were already on the wire and a token came free
 * in between, a later one can be published first (pacing makes refusals rare).
 *
 * <h2>Reconnecting</h2>
 * Delays grow exponentially with full jitter: attempt {@code n} (from 0) waits a uniformly random
 * time in {@code [min, min(max, min * 2^(n+1))]}; the attempt counter resets after a connection
 * that lived at least {@link Builder#backoffResetAfter}. The token supplier is asked for a token on
 * every attempt. What ends a connection decides what comes next:
 * <table>
 * <caption>Close codes and refused handshakes</caption>
 * <tr><th>cause</th><th>the client</th></tr>
 * <tr><td>1001 going away, after a {@code disconnect} message with {@code retryAfterMs}</td>
 *     <td>waits the hint plus a random share of {@code min}</td></tr>
 * <tr><td>1000, 1001 without hint, 1006 (network, heartbeat timeout), 1009, 1011-1014, 4000-4499
 *     (4001 token expired: a fresh token is fetched anyway; 4002, 4008, 4009), 3000-3999</td>
 *     <td>reconnects after the backoff delay</td></tr>
 * <tr><td>4500-4999 (4500 replaced by a newer connection, 4501 logged out, 4503 violations)</td>
 *     <td>stops for good</td></tr>
 * <tr><td>1002, 1003, 1007, 1008, 1010 (protocol or policy errors)</td>
 *     <td>stops for good: the client sent something the server refuses; reconnecting would repeat
 *     it in a loop. (1009, message too big, is not among them: the offending publication has
 *     already failed and is not resent.)</td></tr>
 * <tr><td>HTTP 401</td><td>backoff, then a fresh token</td></tr>
 * <tr><td>HTTP 429 / 503 with {@code Retry-After}</td><td>waits at least that long (plus jitter)</td></tr>
 * <tr><td>HTTP 408, 425, 429, 5xx; connect failures and timeouts</td><td>backoff</td></tr>
 * <tr><td>HTTP 400, 403, 404, 426 and other statuses</td>
 *     <td>stops for good (wrong URL, origin or protocol version: retrying cannot fix it)</td></tr>
 * </table>
 * When the client stops for good, {@link ConnectionListener#onDisconnected} gets
 * {@code willReconnect = false}, and every pending future fails with {@link ClientClosedException}.
 *
 * <h2>Re-authentication and heartbeat</h2>
 * When the server sends {@code reauth}, the client answers with a fresh token from the supplier on
 * the same connection. If the token expires first, the server closes with 4001 and the client
 * reconnects with a fresh token. If nothing at all (not even a WebSocket ping) arrives from the
 * server for {@link Builder#heartbeatTimeout}, the connection is presumed dead and replaced; after
 * half of that silence the client sends a WebSocket ping to provoke an answer.
 *
 * <h2>Encrypted channels</h2>
 * With {@link Builder#encryption}, the data of the named channels travels end to end encrypted
 * (AES-256-GCM, keys from the application's {@link ChannelKeys}): the gateway, Redis and the
 * history store see only envelopes. Encryption and decryption run on the client thread, in the
 * order of publishes and deliveries; the ordering and delivery rules above are unchanged, and a
 * publication that does not decrypt is reported with {@link SubscriptionListener#onDecryptFailed}
 * in its place.
 */
public interface PortcullisClient extends AutoCloseable {

    /** A builder for a client of the gateway at {@code uri} ({@code ws://} or {@code wss://}, path included). */
    static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /**
     * Starts connecting (once; later calls return the same future). Completes with the first
     * {@link Connected}; fails with {@link ClientClosedException} if the client stops for good
     * before. Requests made before {@code connect} wait for the connection.
     */
    CompletableFuture<Connected> connect();

    /** Subscribes to {@code channel} from now on. One subscription per channel and client; a second throws {@link IllegalStateException}. */
    Subscription subscribe(String channel, SubscriptionListener listener);

    /**
     * Subscribes to {@code channel}, resuming after {@code since} (a position saved from an earlier
     * subscription): the server replays what followed it if its history still covers it.
     */
    Subscription subscribe(String channel, Position since, SubscriptionListener listener);

    /** Publishes {@code data} (any JSON value) to {@code channel}; completes with its offset. */
    CompletableFuture<Long> publish(String channel, JsonNode data);

    /**
     * Publishes the JSON text {@code json} (an object, array, number, string in quotes...). Throws
     * {@link IllegalArgumentException} if it is not valid JSON.
     */
    CompletableFuture<Long> publish(String channel, String json);

    /**
     * Reads a channel's history after {@code since} (null: the oldest kept), at most {@code limit}
     * publications (1 to 1000; 0: the server's default, 100). Needs read permission. Check
     * {@link HistoryPage#complete()}. Fails with {@link ServerErrorException} when the server refuses
     * ({@code forbidden}, {@code unavailable}) and with {@link ConnectionLostException} if the
     * connection drops before the answer.
     */
    CompletableFuture<HistoryPage> history(String channel, Position since, int limit);

    /**
     * Lists the channel's members on every gateway instance. Needs read permission and a channel in
     * the gateway's {@code channels.presence}: otherwise the future fails with a
     * {@link ServerErrorException} {@code forbidden} or {@code presence_disabled}. Queued while
     * disconnected like {@link #history}.
     */
    CompletableFuture<Presence> presence(String channel);

    /** True while a connection is open and greeted. */
    boolean isConnected();

    /**
     * Stops the client: closes the connection with 1000, fails pending futures with
     * {@link ClientClosedException}, calls {@link ConnectionListener#onDisconnected} a last time and
     * stops the client thread. Idempotent. Waits (up to a few seconds) for that to be done unless
     * called on the client thread.
     */
    @Override
    void close();

    /** Settings of a {@link PortcullisClient}; {@link #token} is required. */
    final class Builder {
        final URI uri;
        Supplier<? extends CompletionStage<String>> tokens;
        Duration backoffMin = Duration.ofMillis(500);
        Duration backoffMax = Duration.ofSeconds(30);
        Duration backoffResetAfter = Duration.ofSeconds(10);
        int offlineQueue = 1000;
        int sendPerMinute = 50;
        int sendBurst = 10;
        Duration heartbeatTimeout = Duration.ofSeconds(45);
        Duration connectTimeout = Duration.ofSeconds(10);
        ConnectionListener listener = new ConnectionListener() {};
        HttpClient httpClient;
        List<String> encryptedChannels = List.of();
        ChannelKeys channelKeys;

        Builder(URI uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
            String scheme = uri.getScheme();
            if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
                throw new IllegalArgumentException("uri must be ws:// or wss://: " + uri);
            }
        }

        /**
         * Where tokens come from: called for every connection attempt and for every {@code reauth}
         * request, on a virtual thread of its own (it may block, e.g. on an HTTP call; cache in the
         * supplier if fetching is costly). A supplier that throws or returns null counts as a failed
         * attempt (backoff). The token travels in the {@code Authorization} header and is never
         * logged.
         */
        public Builder token(Supplier<String> supplier) {
            Objects.requireNonNull(supplier, "supplier");
            this.tokens = () -> Tokens.onVirtualThread(supplier);
            return this;
        }

        /** Like {@link #token(Supplier)} for an asynchronous source; the supplier itself must not block. */
        public Builder tokenAsync(Supplier<? extends CompletionStage<String>> supplier) {
            this.tokens = Objects.requireNonNull(supplier, "supplier");
            return this;
        }

        /** Reconnect delays: exponential from {@code min} up to {@code max}, full jitter. Defaults 500 ms and 30 s. */
        public Builder backoff(Duration min, Duration max) {
            if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("backoff needs 0 < min <= max");
            }
            this.backoffMin = min;
            this.backoffMax = max;
            return this;
        }

        /** A connection that lived this long resets the backoff to {@code min}. Default 10 s. */
        public Builder backoffResetAfter(Duration duration) {
            this.backoffResetAfter = requirePositive(duration, "backoffResetAfter");
            return this;
        }

        /** How many publications may be pending at once (see "Publishing" above). Default 1000. */
        public Builder offlineQueue(int capacity) {
            if (capacity < 0) {
                throw new IllegalArgumentException("offlineQueue must not be negative");
            }
            this.offlineQueue = capacity;
            return this;
        }

        /**
         * The client's own limit on the messages it sends (subscribe, unsubscribe, publish, history;
         * not re-auth): {@code burst} at once, refilled at {@code perMinute}. Set it to the gateway's
         * {@code limits.messages-per-minute} and {@code limits.message-burst} (defaults 50 and 10,
         * the gateway's defaults); {@code perMinute} 0 for no limit.
         */
        public Builder sendRate(int perMinute, int burst) {
            new SendRate(perMinute, burst); // validates
            this.sendPerMinute = perMinute;
            this.sendBurst = burst;
            return this;
        }

        /**
         * Silence from the server after which the connection is presumed dead. Keep it above the
         * server's {@code heartbeat.interval} (default 30 s). Default 45 s.
         */
        public Builder heartbeatTimeout(Duration timeout) {
            this.heartbeatTimeout = requirePositive(timeout, "heartbeatTimeout");
            return this;
        }

        /** How long one opening handshake may take. Default 10 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = requirePositive(timeout, "connectTimeout");
            return this;
        }

        public Builder listener(ConnectionListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The HTTP client to open WebSockets with (e.g. for custom TLS); default: one shared client. */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
            return this;
        }

        /**
         * End-to-end encryption of the channels named in {@code channels} (channel names, or prefix
         * patterns ending in {@code *}, as in the gateway's {@code channels.encrypted}) with the
         * application's {@code keys}. Publications to them are sealed into an AES-256-GCM envelope
         * ({@link EnvelopeCipher}) under {@link ChannelKeys#currentKid} before they are queued (the
         * offline queue holds ciphertext); every publication received on them, live, recovered or in
         * a {@link HistoryPage}, is decrypted before the application sees it, and one that does not
         * decrypt is reported to {@link SubscriptionListener#onDecryptFailed} instead (history:
         * {@link HistoryPage#failed()}). A publish whose channel has no current kid or key fails
         * with {@link PortcullisException}, and nothing is sent. {@code keys} is called on the
         * client thread: it must answer from memory. Throws {@link IllegalArgumentException} for a
         * pattern with {@code *} elsewhere than at its end.
         */
        public Builder encryption(List<String> channels, ChannelKeys keys) {
            this.encryptedChannels = EncryptedChannels.validate(channels);
            this.channelKeys = Objects.requireNonNull(keys, "keys");
            return this;
        }

        public PortcullisClient build() {
            if (tokens == null) {
                throw new IllegalStateException("a token supplier is required: token(...) or tokenAsync(...)");
            }
            return new ClientEngine(this);
        }

        private static Duration requirePositive(Duration duration, String name) {
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return duration;
        }
    }
}
