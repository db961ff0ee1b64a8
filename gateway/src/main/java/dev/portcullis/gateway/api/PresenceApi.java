package dev.portcullis.gateway.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.portcullis.gateway.presence.Member;
import dev.portcullis.gateway.presence.Presence;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /api/channels/{channel}/presence}: the same list a reader gets with the client's
 * {@code presence} request, {@code {channel, members: [{user, connection, since}], complete}}
 * ({@code since} in epoch milliseconds; at most {@link Presence#MAX_MEMBERS}). A channel outside
 * {@code channels.presence} is 400 {@code presence_disabled}. Thread-safe.
 */
final class PresenceApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Presence presence;

    PresenceApi(Presence presence) {
        this.presence = presence;
    }

    CompletableFuture<ApiResponse> members(String channel) {
        BackendApi.channel(TextNode.valueOf(channel), "channel");
        if (!presence.listable(channel)) {
            throw new BadRequest(400, "presence_disabled", "this channel keeps no presence (channels.presence)");
        }
        return presence.members(channel).thenApply(members -> {
            ObjectNode answer = JSON.createObjectNode().put("channel", channel);
            ArrayNode list = answer.putArray("members");
            for (Member member : members.members()) {
                list.addObject().put("user", member.user()).put("connection", member.connection())
                        .put("since", member.since().toEpochMilli());
            }
            answer.put("complete", members.complete());
            return ApiResponse.ok(answer.toString());
        });
    }
}
