package dev.portcullis.gateway.session;

import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channels of one {@link Session}: joining and leaving them in the index, subscribing with
 * recovery from a position (the {@code history} and {@code presence} requests are in
 * {@link ChannelReads}), reporting joins and leaves to {@code Presence}, and holding back live
 * publications and join/leave events of a channel while it recovers. Split from {@link Session}, which
 * owns the connection's life (greeting, rate limit, re-auth, expiry, violations) and answers the client
 * through the same replies.
 *
 * <p>A channel with a subscribe hook ({@code hooks.subscribe}) is joined, and its history read, only
 * after the application's backend accepted; the automatic channels of {@link Session#start} are
 * granted by configuration and never asked about.
 *
 * <p>Threading: like its session, everything runs on the session's executor; hook answers, history
 * reads and the broker's confirmation may complete elsewhere and are handed back to it.
 */
final class ChannelSubscriptions {
    private static final Logger log = LoggerFactory.getLogger(ChannelSubscriptions.class);

    private final Session session;
    private final Session.Context context;
    private final Outbound out;
    private final Executor executor;
    private final List<String> subscriptions = new ArrayList<>(2);
    /**
     * Channels whose subscribe is waiting for history, with that subscribe (an answer for another one,
     * superseded by an unsubscribe, must not act on it) and what is held meanwhile; null when none.
     */
    private Map<String, Recovery> recovering;
    /**
     * After a subscribe: per channel, the epoch and the last offset the client has been sent or told
     * about (the ack's position). A live publication at or below it may still arrive afterwards (its
     * fan-out was queued behind the subscribe's reply, or a clustered broker's pub/sub message came
     * after the history read saw it) and is dropped; the entry goes once the live stream passes it.
     * Null when none.
     */
    private Map<String, Floor> floors;
    /** Channels whose subscribe waits for the subscribe hook's answer, with that subscribe; null when none. */
    private Map<String, ClientMessage.Subscribe> checking;

    private record Floor(String epoch, long offset) {}

    /**
     * One recovering subscribe: the live publications and join/leave events that arrived meanwhile, in
     * arrival order (at most {@value #MAX_HELD_EVENTS} events; more are dropped, as events are
     * best-effort).
     */
    private static final class Recovery {
        final ClientMessage.Subscribe subscribe;
        final List<Publication> held = new ArrayList<>();
        int events;

        Recovery(ClientMessage.Subscribe subscribe) {
            this.subscribe = subscribe;
        }
    }

    /** Join/leave events held per recovering channel at most. */
    static final int MAX_HELD_EVENTS = 64;

    ChannelSubscriptions(Session session, Session.Context context, Outbound out, Executor executor) {
        this.session = session;
        this.context = context;
        this.out = out;
        this.executor = executor;
    }

    List<String> channels() {
        return subscriptions;
    }

    /** A publication or join/leave event from the index: written, or held back while its channel recovers. */
    void deliver(Publication publication) {
        Recovery recovery = recovering == null ? null : recovering.get(publication.channel());
        if (publication.isEvent()) {
            // join/leave: no offset, not recoverable; not about oneself; held until the subscribe's ack
            if (publication.origin().equals(session.id())) {
                return;
            }
            if (recovery == null) {
                out.deliver(publication);
            } else if (recovery.events < MAX_HELD_EVENTS) {
                recovery.events++;
                publication.retain();
                recovery.held.add(publication);
            }
            return;
        }
        if (recovery == null) {
            if (publication.isGap()) {
                dropFloor(publication.channel()); // the client continues from the notice's position
                out.deliver(publication);
            } else if (floors == null || !belowFloor(publication)) {
                out.deliver(publication);
            }
        } else if (recovery.held.size() - recovery.events < Session.MAX_RECOVERY_BUFFER) {
            publication.retain();
            recovery.held.add(publication);
        } else {
            session.disconnect(Disconnect.SLOW_CONSUMER);
        }
    }

    /** True for a late live publication the client already has (or was told it does not need). */
    private boolean belowFloor(Publication publication) {
        Floor floor = floors.get(publication.channel());
        if (floor == null) {
            return false;
        }
        if (floor.epoch().equals(publication.epoch()) && publication.offset() <= floor.offset()) {
            return true;
        }
        dropFloor(publication.channel()); // publications of a channel arrive in order: none older will follow
        return false;
    }

    private void dropFloor(String channel) {
        if (floors != null && floors.remove(channel) != null && floors.isEmpty()) {
            floors = null;
        }
    }

    /** Leaves every channel and drops what was held back: the session is over. */
    void closeAll() {
        for (String channel : subscriptions) {
            context.index().unsubscribe(channel, session);
            context.presence().left(channel, session.user(), session.id());
        }
        subscriptions.clear();
        floors = null;
        checking = null;
        if (recovering != null) {
            recovering.values().forEach(recovery -> recovery.held.forEach(Publication::release));
            recovering = null;
        }
    }

    /**
     * Subscribe, and recover what was missed since the client's position. The race argument:
     * <ol>
     *   <li>The channel is marked recovering and joined in the index first, and the broker confirms
     *       that publications of the channel reach this instance (a clustered broker's upstream
     *       subscription); from then on every live publication reaches {@link #deliver}, which holds
     *       it back.</li>
     *   <li>Then the history is read. Every publication is in the history from the moment it has its
     *       offset (the broker stores and fans out in one step), so any publication that was not held
     *       back in (1) has an offset the read returns, and any publication after the read is held
     *       back: together they leave no gap.</li>
     *   <li>The ack goes out with the channel's position, then the history after the client's offset,
     *       then the held publications whose offset is beyond the last one sent: overlap between (1)
     *       and (2) is removed by offset, so nothing is sent twice.</li>
     *   <li>A live publication the history read already returned may still reach {@link #deliver} after
     *       all this (the index queues fan-out per loop, and a clustered broker's pub/sub message can
     *       trail the history read): the last offset sent is kept as the channel's floor, and live
     *       publications at or below it are dropped.</li>
     * </ol>
     * If the history no longer reaches back to the client's offset, or the epoch differs, the ack
     * says {@code recovered: false} with the current position; no history is sent (the client must
     * reload), only live publications after that position.
     */
    void subscribe(ClientMessage.Subscribe subscribe, Permissions permissions, boolean askHook) {
        String channel = subscribe.channel();
        if (!permissions.canRead(channel)) {
            session.error(subscribe.id(), "forbidden", "no read permission for this channel");
            return;
        }
        boolean already = subscriptions.contains(channel);
        int held = subscriptions.size() + (checking == null ? 0 : checking.size());
        if (!already && context.settings().subscriptionsPerConnection() > 0 && held >= context.settings().subscriptionsPerConnection()) {
            session.error(subscribe.id(), "too_many_subscriptions",
                    "at most " + context.settings().subscriptionsPerConnection() + " subscriptions per connection");
            return;
        }
        if (recovering != null && recovering.containsKey(channel) || checking != null && checking.containsKey(channel)) {
            session.error(subscribe.id(), "bad_request", "a subscribe to this channel is already in progress");
            return;
        }
        if (askHook && !already && context.hooks().hooksSubscribe(channel)) {
            askHook(subscribe);
            return;
        }
        if (recovering == null) {
            recovering = new HashMap<>(4);
        }
        recovering.put(channel, new Recovery(subscribe));
        join(channel);
        ClientMessage.Since since = subscribe.since();
        long from = since == null ? Long.MAX_VALUE : since.offset();
        // Only once publications of the channel reach us (a clustered broker subscribes upstream first)
        // is the history read: then every publication is either in it or held back here.
        context.broker().awaitSubscribed(channel)
                .thenCompose(ready -> context.history().read(channel, from == Long.MAX_VALUE ? Long.MAX_VALUE - 1 : from, Session.MAX_RECOVERY + 1))
                .whenComplete((page, failure) -> executor.execute(() -> recovered(subscribe, page, failure)));
    }

    /**
     * The subscribe hook decides; the channel counts as subscribed meanwhile (limit, duplicate). An
     * {@code unsubscribe} before the answer supersedes the subscribe: it gets {@code error}
     * {@code unsubscribed} when the answer comes, whatever it is, and a new subscribe to the channel
     * waits for an answer of its own. On accept the checks run again against the permissions of that
     * moment (a re-auth may have changed them).
     */
    private void askHook(ClientMessage.Subscribe subscribe) {
        String channel = subscribe.channel();
        if (checking == null) {
            checking = new HashMap<>(4);
        }
        checking.put(channel, subscribe);
        context.hooks().subscribe(channel, session.user(), session.id()).whenComplete((result, failure) -> executor.execute(() -> {
            if (session.isClosed()) {
                return;
            }
            if (checking == null || !checking.remove(channel, subscribe)) {
                superseded(subscribe);
                return;
            }
            if (checking.isEmpty()) {
                checking = null;
            }
            ChannelReads.answered(session, subscribe.id(), result, failure, () -> subscribe(subscribe, session.permissions(), false));
        }));
    }

    /**
     * The answer to a subscribe that an {@code unsubscribe} (or a re-auth withdrawing the channel) overtook:
     * every request with an id gets exactly one answer, and this one says it did not happen.
     */
    private void superseded(ClientMessage.Subscribe subscribe) {
        if (subscribe.id() != null) {
            session.error(subscribe.id(), "unsubscribed", "the channel was left before this subscribe was done");
        }
    }

    private void recovered(ClientMessage.Subscribe subscribe, HistoryPage page, Throwable failure) {
        String channel = subscribe.channel();
        Recovery recovery = recovering == null ? null : recovering.get(channel);
        if (recovery == null || recovery.subscribe != subscribe) {
            if (!session.isClosed()) {
                superseded(subscribe);
            }
            return;
        }
        recovering.remove(channel);
        if (recovering.isEmpty()) {
            recovering = null;
        }
        List<Publication> held = recovery.held;
        try {
            if (session.isClosed() || !subscriptions.contains(channel)) {
                return;
            }
            ClientMessage.Since since = subscribe.since();
            if (failure != null) {
                log.debug("conn={} history of a channel unavailable: {}", session.id(), failure.toString());
                session.send(new ServerMessage.Ack(subscribe.id(), channel, null, null, null, since == null ? null : false));
                held.forEach(out::deliver);
                out.flush();
                return;
            }
            Position position = page.position();
            boolean recovered = since != null && page.complete() && position.epoch().equals(since.epoch())
                    && since.offset() <= position.offset() && page.publications().size() <= Session.MAX_RECOVERY;
            session.send(ServerMessage.Ack.subscribed(subscribe.id(), channel, position.offset(), position.epoch(),
                    since == null ? null : recovered));
            long last = recovered ? since.offset() : position.offset();
            if (recovered) {
                for (HistoryPage.Entry entry : page.publications()) {
                    Publication missed = Publication.encode(channel, entry.offset(), position.epoch(), entry.dataJson());
                    try {
                        out.deliver(missed);
                    } finally {
                        missed.release();
                    }
                    last = entry.offset();
                }
                context.metrics().recovered(page.publications().size());
            }
            String epoch = position.epoch();
            for (Publication live : held) {
                if (live.isEvent()) {
                    out.deliver(live); // no offset or epoch: outside the bookkeeping
                } else if (!live.epoch().equals(epoch) || live.offset() > last) {
                    out.deliver(live);
                    if (live.epoch().equals(epoch)) {
                        last = live.offset();
                    } else {
                        epoch = live.epoch(); // the channel's history was reset meanwhile
                        last = live.offset();
                    }
                }
            }
            if (floors == null) {
                floors = new HashMap<>(4);
            }
            floors.put(channel, new Floor(epoch, last));
            out.flush();
        } finally {
            held.forEach(Publication::release);
        }
    }

    void join(String channel) {
        if (!subscriptions.contains(channel)) {
            subscriptions.add(channel);
            context.index().subscribe(channel, session);
            context.presence().joined(channel, session.user(), session.id(), context.clock().instant());
        }
    }

    void leave(String channel) {
        if (subscriptions.remove(channel)) {
            context.index().unsubscribe(channel, session);
            context.presence().left(channel, session.user(), session.id());
        }
        dropFloor(channel);
        if (checking != null && checking.remove(channel) != null && checking.isEmpty()) {
            checking = null;
        }
        if (recovering != null) {
            Recovery recovery = recovering.remove(channel);
            if (recovery != null) {
                recovery.held.forEach(Publication::release);
            }
            if (recovering.isEmpty()) {
                recovering = null;
            }
        }
    }

}
