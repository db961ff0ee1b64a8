package dev.portcullis.client;

import java.time.Instant;
import java.util.List;

/**
 * An answer to {@link PortcullisClient#presence}: who is subscribed to a channel that keeps presence
 * (the gateway's {@code channels.presence}), on every gateway instance, longest present first.
 *
 * @param channel  the channel
 * @param members  at most the gateway's maximum (1,000)
 * @param complete false when the gateway cut the list, or could list only some instances
 */
public record Presence(String channel, List<Member> members, boolean complete) {
    public Presence {
        members = List.copyOf(members);
    }

    /**
     * One subscribed connection.
     *
     * @param user       the token's subject
     * @param connection the connection id
     * @param since      when it subscribed
     */
    public record Member(String user, String connection, Instant since) {}
}
