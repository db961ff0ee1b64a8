package dev.portcullis.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.gateway.auth.RevocationStore;
import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.broker.BrokerUnavailableException;
import dev.portcullis.gateway.broker.PublishOutcomeUnknownException;
import dev.portcullis.gateway.channel.ChannelNames;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.Presence;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.PublicationData;
import dev.portcullis.gateway.session.Disconnect;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend's operations on the admin port, behind {@code Authorization: Bearer <admin.api-keys>}:
 *
 * <pre>
 * POST /api/publish                 {channel, data, idempotencyKey?}          -> {offset, epoch}
 * POST /api/broadcast               {channels: [...], data, idempotencyKey?}  -> {offsets: {channel: offset}, epochs: {channel: epoch}}
 * POST /api/users/{user}/disconnect {reason?, revoke?}         -> {disconnected, revoked}
 * GET  /api/connections?user=...                               -> {connections: [...]}
 * GET  /api/stats                                              -> {connections, subscriptions, channels, messagesInPerSecond, messagesOutPerSecond, instances: [...]}
 * GET  /api/channels/{channel}/presence                        -> {channel, members: [{user, connection, since}], complete}
 * </pre>
 *
 * The routes are in {@link ApiRoutes}; this class checks the key, counts the answers and holds the
 * operations on publications and connections ({@link PresenceApi} those on presence).
 *
 * Errors are {@code {error, message}} with 400 (bad JSON, bad channel, invalid data), 401 (no or
 * wrong key), 404, 405, 503 {@code unavailable} (the broker cannot take publications: certainly not
 * published), 504 {@code outcome_unknown} (sent, but no answer in time: maybe published; the answer
 * carries the {@code idempotencyKey} to retry with, generated when the request had none). Publication data goes through the
 * same namespace schema and sanitising as client publications. Never blocks: every answer is a
 * future. Thread-safe.
 */
public final class BackendApi {
    private static final Logger log = LoggerFactory.getLogger(BackendApi.class);
    private static final int MAX_BROADCAST_CHANNELS = 1000;
    /** Key of encrypted channels' data in a broadcast; a namespace never holds {@code :}. */
    private static final String ENCRYPTED = ":encrypted";
    private static final int MAX_REASON_LENGTH = 100;
    private static final int MAX_USER_LENGTH = 256;

    private final ObjectMapper json = new ObjectMapper();
    private final ApiRoutes routes;
    private final ApiKeys keys;
    private final Broker broker;
    private final PublicationData publicationData;
    private final ConnectionDirectory directory;
    private final RevocationStore revocations;
    private final GatewayMetrics metrics;

    private final ClusterView cluster;
    private final Supplier<InstanceStats> localStats;

    /**
     * @param localStats this instance's figures
     * @param cluster the other instances ({@link ClusterView#ALONE} for a single one)
     * @param presence channel presence, for {@code /api/channels/{channel}/presence}
     */
    public BackendApi(List<String> apiKeys, Broker broker, PublicationData publicationData, ConnectionDirectory directory,
            RevocationStore revocations, GatewayMetrics metrics, Supplier<InstanceStats> localStats, ClusterView cluster,
            Presence presence) {
        this.routes = new ApiRoutes(this, new PresenceApi(presence));
        this.cluster = cluster;
        this.localStats = localStats;
        this.keys = new ApiKeys(apiKeys);
        this.broker = broker;
        this.publicationData = publicationData;
        this.directory = directory;
        this.revocations = revocations;
        this.metrics = metrics;
    }

    /**
     * @param path the request path, starting with {@code /api/}
     * @param query decoded query parameters
     * @param authorization the {@code Authorization} header or null
     * @param body the request body (empty when none)
     */
    public CompletableFuture<ApiResponse> handle(String method, String path, Map<String, List<String>> query,
            String authorization, byte[] body) {
        if (!keys.allows(authorization)) {
            metrics.apiRequest("unauthorized");
            return done(error(401, "unauthorized", keys.configured()
                    ? "Authorization: Bearer <api key> required" : "the backend API is off: set admin.api-keys"));
        }
        try {
            CompletableFuture<ApiResponse> answer = routes.route(method, path, query, body);
            return answer.thenApply(this::counted);
        } catch (BadRequest e) {
            metrics.apiRequest("bad_request");
            return done(error(e.status, e.code, e.getMessage()));
        }
    }

    CompletableFuture<ApiResponse> publish(ObjectNode request) {
        String channel = channel(request.get("channel"), "$.channel");
        String data = prepare(channel, request);
        String key = broker.idempotencyKeyFor(idempotencyKey(request));
        return broker.publish(channel, data, key).handle((position, failure) -> failure == null
                ? published(ApiResponse.ok(json.createObjectNode().put("offset", position.offset())
                        .put("epoch", position.epoch()).toString()), 1)
                : failed(failure));
    }

    private static String idempotencyKey(ObjectNode request) {
        JsonNode key = request.get("idempotencyKey");
        if (key != null && (!key.isTextual() || key.textValue().isEmpty() || key.textValue().length() > 128)) {
            throw new BadRequest(400, "invalid_message", "$.idempotencyKey: a string of 1 to 128 characters");
        }
        return key == null ? null : key.textValue();
    }

    CompletableFuture<ApiResponse> broadcast(ObjectNode request) {
        JsonNode list = request.get("channels");
        if (list == null || !list.isArray() || list.isEmpty() || list.size() > MAX_BROADCAST_CHANNELS) {
            throw new BadRequest(400, "invalid_message", "$.channels: an array of 1 to " + MAX_BROADCAST_CHANNELS + " channels is required");
        }
        Map<String, String> dataByChannel = new LinkedHashMap<>();
        Map<String, String> dataByPolicy = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            String channel = channel(list.get(i), "$.channels[" + i + "]");
            // prepared once per namespace; an encrypted channel's data is the same envelope in every one
            String policy = publicationData.encrypted(channel) ? ENCRYPTED : ChannelNames.namespace(channel);
            if (!dataByPolicy.containsKey(policy)) {
                dataByPolicy.put(policy, prepare(channel, request));
            }
            dataByChannel.put(channel, dataByPolicy.get(policy));
        }
        // One key for every channel of the broadcast (keys are per channel): a retry after
        // outcome_unknown publishes to the channels that missed it and to no other.
        String key = broker.idempotencyKeyFor(idempotencyKey(request));
        List<CompletableFuture<Position>> offsets = new ArrayList<>();
        dataByChannel.forEach((channel, data) -> offsets.add(broker.publish(channel, data, key)));
        return CompletableFuture.allOf(offsets.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> {
            if (failure != null) {
                return failed(firstFailure(offsets, failure));
            }
            ObjectNode byChannel = json.createObjectNode();
            ObjectNode epochs = json.createObjectNode();
            int i = 0;
            for (String channel : dataByChannel.keySet()) {
                Position position = offsets.get(i++).join();
                byChannel.put(channel, position.offset());
                epochs.put(channel, position.epoch());
            }
            ObjectNode answer = json.createObjectNode();
            answer.set("offsets", byChannel);
            answer.set("epochs", epochs);
            return published(ApiResponse.ok(answer.toString()), dataByChannel.size());
        });
    }

    CompletableFuture<ApiResponse> disconnect(String user, ObjectNode request) {
        if (user.isEmpty() || user.length() > MAX_USER_LENGTH) {
            throw new BadRequest(400, "bad_request", "the user id must have 1 to " + MAX_USER_LENGTH + " characters");
        }
        JsonNode reasonNode = request.get("reason");
        JsonNode revokeNode = request.get("revoke");
        if (reasonNode != null && !reasonNode.isNull() && (!reasonNode.isTextual() || reasonNode.textValue().length() > MAX_REASON_LENGTH)) {
            throw new BadRequest(400, "invalid_message", "$.reason: a string of at most " + MAX_REASON_LENGTH + " characters");
        }
        if (revokeNode != null && !revokeNode.isNull() && !revokeNode.isBoolean()) {
            throw new BadRequest(400, "invalid_message", "$.revoke: a boolean");
        }
        boolean revoke = revokeNode != null && revokeNode.asBoolean(false);
        String reason = reasonNode != null && reasonNode.isTextual() && !reasonNode.textValue().isBlank()
                ? reasonNode.textValue() : Disconnect.LOGGED_OUT.reason();
        // Revoke first, so that a reconnect racing this call is already refused; then close.
        CompletableFuture<Void> revoked = revoke ? revocations.revoke(user) : CompletableFuture.completedFuture(null);
        Disconnect disconnect = new Disconnect(Disconnect.LOGGED_OUT.code(), reason);
        return revoked.handle((ok, failure) -> failure).thenCompose(revokeFailure -> directory.disconnect(user, disconnect)
                .handle((closed, failure) -> {
                    if (revokeFailure != null || failure != null) {
                        log.warn("api: logout of a user could not reach every instance: {}",
                                String.valueOf(revokeFailure != null ? revokeFailure : failure));
                        return error(503, "unavailable", "the logout could not be stored or announced cluster-wide; retry");
                    }
                    log.info("api: disconnected {} connection(s) of a user, revoke={}", closed, revoke);
                    return ApiResponse.ok(json.createObjectNode().put("disconnected", closed).put("revoked", revoke).toString());
                }));
    }

    CompletableFuture<ApiResponse> connections(Map<String, List<String>> query) {
        List<String> users = query.get("user");
        if (users == null || users.isEmpty() || users.get(0).isEmpty()) {
            throw new BadRequest(400, "bad_request", "the user query parameter is required");
        }
        return directory.connections(users.get(0)).thenApply(list -> {
            ArrayNode array = json.createArrayNode();
            for (ConnectionInfo info : list) {
                ObjectNode node = array.addObject()
                        .put("id", info.id())
                        .put("user", info.user())
                        .put("remote", info.remote())
                        .put("since", info.since().toString());
                ArrayNode channels = node.putArray("channels");
                info.channels().forEach(channels::add);
            }
            ObjectNode answer = json.createObjectNode();
            answer.set("connections", array);
            return ApiResponse.ok(answer.toString());
        });
    }

    /**
     * Sums over this instance and every live one of the cluster. {@code channels} sums each
     * instance's channels with local subscribers (a channel followed on two instances counts twice).
     */
    ApiResponse stats() {
        List<InstanceStats> all = new ArrayList<>();
        all.add(localStats.get());
        all.addAll(cluster.others());
        ObjectNode answer = json.createObjectNode()
                .put("connections", all.stream().mapToInt(InstanceStats::connections).sum())
                .put("subscriptions", all.stream().mapToInt(InstanceStats::subscriptions).sum())
                .put("channels", all.stream().mapToInt(InstanceStats::channels).sum())
                .put("messagesInPerSecond", round(all.stream().mapToDouble(InstanceStats::messagesInPerSecond).sum()))
                .put("messagesOutPerSecond", round(all.stream().mapToDouble(InstanceStats::messagesOutPerSecond).sum()));
        ArrayNode instances = answer.putArray("instances");
        for (InstanceStats stats : all) {
            instances.addObject().put("instance", stats.instance()).put("connections", stats.connections())
                    .put("subscriptions", stats.subscriptions()).put("channels", stats.channels())
                    .put("messagesInPerSecond", round(stats.messagesInPerSecond()))
                    .put("messagesOutPerSecond", round(stats.messagesOutPerSecond()));
        }
        return ApiResponse.ok(answer.toString());
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }

    private String prepare(String channel, ObjectNode request) {
        JsonNode data = request.get("data");
        if (data == null) {
            throw new BadRequest(400, "invalid_message", "$.data: is required");
        }
        String namespace = ChannelNames.namespace(channel);
        try {
            return publicationData.prepare(channel, namespace, data);
        } catch (ProtocolException e) {
            metrics.validationFailure(namespace);
            throw new BadRequest(400, e.code(), e.getMessage());
        }
    }

    static String channel(JsonNode node, String path) {
        if (node == null || !node.isTextual()) {
            throw new BadRequest(400, "bad_channel", path + ": a channel name is required");
        }
        if (!ChannelNames.valid(node.textValue())) {
            throw new BadRequest(400, "bad_channel", path + ": not a channel name ([A-Za-z0-9_.:-]{1,128})");
        }
        return node.textValue();
    }

    private ApiResponse published(ApiResponse response, int publications) {
        for (int i = 0; i < publications; i++) {
            metrics.publication("api");
        }
        return response;
    }

    /** Of several publishes, an unknown outcome wins over a refusal: the caller must retry with the key. */
    private static Throwable firstFailure(List<CompletableFuture<Position>> publishes, Throwable any) {
        for (CompletableFuture<Position> publish : publishes) {
            if (publish.isCompletedExceptionally()) {
                Throwable cause = publish.exceptionNow();
                if (cause instanceof PublishOutcomeUnknownException) {
                    return cause;
                }
            }
        }
        return any;
    }

    /**
     * 503 {@code unavailable} only when the publication certainly was not made; 504
     * {@code outcome_unknown} with the idempotency key when it may have been.
     */
    private ApiResponse failed(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof PublishOutcomeUnknownException unknown) {
            metrics.broker().outcomeUnknown("api");
            return new ApiResponse(504, json.createObjectNode().put("error", "outcome_unknown")
                    .put("message", "the broker did not answer in time: this may or may not have been published; "
                            + "retry with this idempotencyKey, which publishes it at most once")
                    .put("idempotencyKey", unknown.idempotencyKey()).toString());
        }
        if (!(cause instanceof BrokerUnavailableException)) {
            log.warn("api: publish failed", cause);
        }
        return error(503, "unavailable", "the broker cannot accept publications right now; nothing was published");
    }

    private ApiResponse counted(ApiResponse response) {
        metrics.apiRequest(switch (response.status()) {
            case 200 -> "ok";
            case 404 -> "not_found";
            case 503 -> "unavailable";
            case 504 -> "outcome_unknown";
            default -> "bad_request";
        });
        return response;
    }

    ApiResponse error(int status, String code, String message) {
        return new ApiResponse(status, json.createObjectNode().put("error", code).put("message", message).toString());
    }

    static CompletableFuture<ApiResponse> done(ApiResponse response) {
        return CompletableFuture.completedFuture(response);
    }
}
