package dev.portcullis.gateway.presence;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Presence of a single instance (embedded mode, {@code broker.type: local}): per channel a map of
 * connection id to member, and events handed straight to the local {@link SubscriptionIndex}.
 * Memory follows the live subscriptions of presence channels: an emptied channel is removed.
 *
 * <p>Threading: the maps are concurrent and each change is one atomic map operation, so sessions
 * on any event loop call in directly; an event is published by the thread whose change made it,
 * after the change, so a {@code leave} never overtakes its {@code join} for the same connection
 * (both come from that connection's event loop).
 */
public final class MemoryPresenceStore implements PresenceStore {
    private final Map<String, Map<String, Member>> channels = new ConcurrentHashMap<>();
    private final AtomicInteger members = new AtomicInteger();
    private final SubscriptionIndex index;
    private final ByteBufAllocator alloc;

    public MemoryPresenceStore(SubscriptionIndex index, ByteBufAllocator alloc) {
        this.index = index;
        this.alloc = alloc;
    }

    @Override
    public void join(String channel, Member member, boolean announce) {
        boolean[] added = {false};
        channels.compute(channel, (name, byConnection) -> {
            Map<String, Member> map = byConnection == null ? new ConcurrentHashMap<>() : byConnection;
            added[0] = map.putIfAbsent(member.connection(), member) == null;
            return map;
        });
        if (added[0]) {
            members.incrementAndGet();
            if (announce) {
                announce(channel, PresenceEvents.JOIN, member);
            }
        }
    }

    @Override
    public void leave(String channel, Member member, boolean announce) {
        boolean[] removed = {false};
        channels.computeIfPresent(channel, (name, byConnection) -> {
            removed[0] = byConnection.remove(member.connection()) != null;
            return byConnection.isEmpty() ? null : byConnection;
        });
        if (removed[0]) {
            members.decrementAndGet();
            if (announce) {
                announce(channel, PresenceEvents.LEAVE, member);
            }
        }
    }

    private void announce(String channel, String type, Member member) {
        Publication event = Publication.event(alloc, channel, member.connection(),
                PresenceEvents.json(type, channel, member.user(), member.connection()));
        try {
            index.publish(event);
        } finally {
            event.release();
        }
    }

    /** The longest-present members first, so a cut list keeps the same members from one request to the next. */
    @Override
    public CompletableFuture<Members> members(String channel, int max) {
        Map<String, Member> byConnection = channels.get(channel);
        if (byConnection == null) {
            return CompletableFuture.completedFuture(new Members(List.of(), true));
        }
        List<Member> all = new ArrayList<>(byConnection.values());
        all.sort(Comparator.comparing(Member::since).thenComparing(Member::connection));
        return CompletableFuture.completedFuture(new Members(all.subList(0, Math.min(max, all.size())), all.size() <= max));
    }

    @Override
    public int localMembers() {
        return members.get();
    }
}
