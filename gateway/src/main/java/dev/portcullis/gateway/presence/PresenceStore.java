package dev.portcullis.gateway.presence;

import java.util.concurrent.CompletableFuture;

/**
 * Where the members of channels are kept: in this process ({@link MemoryPresenceStore}), or in
 * Redis so that every instance sees every instance's members (the cluster package's
 * {@code RedisChannelPresence}).
 *
 * <p>Contract: {@link #join} and {@link #leave} never block and may be called from any thread (a
 * session's event loop); a member is listed from the moment its {@code join} is stored until its
 * {@code leave}, or, for an instance that died, until the store noticed (within
 * {@code broker.presence-ttl}). With {@code announce}, the store also sends the {@code join} or
 * {@code leave} event to the channel's subscribers on every instance, exactly once per stored
 * change: a {@code leave} for a member that is no longer stored (already removed with its dead
 * instance) is not sent again; the members of a dead instance get one {@code leave} each, from
 * whichever instance removes them.
 */
public interface PresenceStore {
    void join(String channel, Member member, boolean announce);

    void leave(String channel, Member member, boolean announce);

    /**
     * At most {@code max} members of {@code channel} on every live instance; never fails (when
     * other instances cannot be asked, this instance's members with {@code complete: false}).
     */
    CompletableFuture<Members> members(String channel, int max);

    /** Members this instance holds now, over every channel (for the gauge). */
    int localMembers();
}
