package dev.portcullis.gateway.presence;

import dev.portcullis.gateway.config.ChannelPatterns;
import dev.portcullis.gateway.config.ChannelsConfig;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * Which channels keep presence and which announce joins and leaves ({@code channels.presence},
 * {@code channels.join-leave}), in front of the {@link PresenceStore} that holds the members.
 * Sessions report every channel they join or leave; only channels matching either list are stored
 * (a {@code join-leave} channel is stored too, so that the members of an instance that dies can
 * still be announced as leaving), and only {@code channels.presence} channels may be listed.
 * Immutable and thread-safe.
 */
public final class Presence {
    /** Members listed at most per request (client or API); {@code complete: false} when cut. */
    public static final int MAX_MEMBERS = 1000;

    private final ChannelPatterns listable;
    private final ChannelPatterns announced;
    private final PresenceStore store;

    public Presence(ChannelsConfig config, PresenceStore store) {
        this.listable = ChannelPatterns.of(config.presence());
        this.announced = ChannelPatterns.of(config.joinLeave());
        this.store = store;
    }

    /** True when {@code channel}'s members may be listed. */
    public boolean listable(String channel) {
        return listable.matches(channel);
    }

    /** A connection subscribed to {@code channel}; call once per subscription. */
    public void joined(String channel, String user, String connection, Instant since) {
        boolean announce = announced.matches(channel);
        if (announce || listable.matches(channel)) {
            store.join(channel, new Member(user, connection, since), announce);
        }
    }

    /** A connection left {@code channel} (unsubscribed, withdrawn or disconnected). */
    public void left(String channel, String user, String connection) {
        boolean announce = announced.matches(channel);
        if (announce || listable.matches(channel)) {
            store.leave(channel, new Member(user, connection, Instant.EPOCH), announce);
        }
    }

    /** The members of a {@link #listable} channel, at most {@link #MAX_MEMBERS}. */
    public CompletableFuture<Members> members(String channel) {
        return store.members(channel, MAX_MEMBERS);
    }

    public PresenceStore store() {
        return store;
    }
}
