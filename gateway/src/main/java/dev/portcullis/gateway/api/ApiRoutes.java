package dev.portcullis.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Which operation answers which request of the backend API (the table in {@link BackendApi}): the
 * path picks the operation, a wrong method is 405, an unknown path 404. Split from
 * {@link BackendApi} so that adding a route does not grow the class that holds the operations.
 * Request bodies are parsed here, once, into the JSON object the operation reads. Stateless and
 * thread-safe.
 */
final class ApiRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHANNELS = "/api/channels/";
    private static final String PRESENCE = "/presence";

    private final BackendApi operations;
    private final PresenceApi presence;

    ApiRoutes(BackendApi operations, PresenceApi presence) {
        this.operations = operations;
        this.presence = presence;
    }

    /** @throws BadRequest for a request the route refuses before any operation runs */
    CompletableFuture<ApiResponse> route(String method, String path, Map<String, List<String>> query, byte[] body) {
        if (path.equals("/api/publish")) {
            requireMethod(method, "POST");
            return operations.publish(parse(body));
        }
        if (path.equals("/api/broadcast")) {
            requireMethod(method, "POST");
            return operations.broadcast(parse(body));
        }
        if (path.equals("/api/connections")) {
            requireMethod(method, "GET");
            return operations.connections(query);
        }
        if (path.equals("/api/stats")) {
            requireMethod(method, "GET");
            return BackendApi.done(operations.stats());
        }
        if (path.startsWith("/api/users/") && path.endsWith("/disconnect")) {
            requireMethod(method, "POST");
            String user = URLDecoder.decode(path.substring("/api/users/".length(), path.length() - "/disconnect".length()),
                    StandardCharsets.UTF_8);
            return operations.disconnect(user, body.length == 0 ? JSON.createObjectNode() : parse(body));
        }
        if (path.startsWith(CHANNELS) && path.endsWith(PRESENCE) && path.length() > CHANNELS.length() + PRESENCE.length()) {
            requireMethod(method, "GET");
            return presence.members(URLDecoder.decode(path.substring(CHANNELS.length(), path.length() - PRESENCE.length()),
                    StandardCharsets.UTF_8));
        }
        return BackendApi.done(operations.error(404, "not_found", "no such API route"));
    }

    private static ObjectNode parse(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node instanceof ObjectNode object) {
                return object;
            }
        } catch (JsonProcessingException e) {
            throw new BadRequest(400, "bad_json", "the body is not valid JSON");
        } catch (java.io.IOException e) {
            throw new BadRequest(400, "bad_json", "the body cannot be read");
        }
        throw new BadRequest(400, "bad_json", "the body must be a JSON object");
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new BadRequest(405, "method_not_allowed", "use " + expected);
        }
    }
}
