package dev.portcullis.gateway.presence;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Presence of a single instance (embedded mode, {@code broker.type: local}): per channel a map of
 * connection id to member, and events handed straight to the local {@link SubscriptionIndex}.
 * Memory follows the live subscriptions of presence channels: an emptied channel is removed.
 * Each channel keeps its members twice, by connection (for {@code leave}, which knows only the
 * connection) and in listing order (longest present first), so that a listing walks the first
 * {@code max + 1} members instead of copying and sorting a channel of, say, 10^5 members on an event
 * loop for every request.
 *
 * <p>Threading: the maps are concurrent and each change is one atomic operation on the channel map
 * (both views of a channel change inside its {@code compute}), so sessions on any event loop call in
 * directly; a listing reads the ordered view without a lock (weakly consistent: a member joining or
 * leaving meanwhile may or may not be in it); an event is published by the thread whose change made it,
 * after the change, so a {@code leave} never overtakes its {@code join} for the same connection
 * (both come from that connection's event loop).
 */
public final class MemoryPresenceStore implements PresenceStore {
    /** Longest present first; the connection id breaks ties (unique within a channel). */
    private static final Comparator<Member> ORDER = Comparator.comparing(Member::since).thenComparing(Member::connection);

    /** One channel's members: by connection, and the same members in {@link #ORDER}. */
    private record Channel(Map<String, Member> byConnection, NavigableSet<Member> ordered) {
        Channel() {
            this(new ConcurrentHashMap<>(), new ConcurrentSkipListSet<>(ORDER));
        }
    }

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
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
        channels.compute(channel, (name, members) -> {
            Channel here = members == null ? new Channel() : members;
            added[0] = here.byConnection().putIfAbsent(member.connection(), member) == null;
            if (added[0]) {
                here.ordered().add(member);
            }
            return here;
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
        channels.computeIfPresent(channel, (name, members) -> {
            Member stored = members.byConnection().remove(member.connection()); // the argument's since is not known
            if (stored != null) {
                removed[0] = true;
                members.ordered().remove(stored);
            }
            return members.byConnection().isEmpty() ? null : members;
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

    /**
     * The longest-present members first, so a cut list keeps the same members from one request to the
     * next. Walks at most {@code max + 1} members of the ordered view, whatever the channel's size.
     */
    @Override
    public CompletableFuture<Members> members(String channel, int max) {
        Channel members = channels.get(channel);
        if (members == null) {
            return CompletableFuture.completedFuture(new Members(List.of(), true));
        }
        List<Member> first = new ArrayList<>(Math.min(max, 64));
        Iterator<Member> ordered = members.ordered().iterator();
        while (first.size() < max && ordered.hasNext()) {
            first.add(ordered.next());
        }
        return CompletableFuture.completedFuture(new Members(first, !ordered.hasNext()));
    }

    @Override
    public int localMembers() {
        return members.get();
    }
}
