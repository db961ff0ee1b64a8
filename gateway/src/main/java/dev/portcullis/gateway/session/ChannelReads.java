package dev.portcullis.gateway.session;

import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.hooks.HookResult;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.RequestId;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The {@code history} and {@code presence} requests of one {@link Session}: reads of a channel that
 * need no subscription, only the read permission and, on a channel with a subscribe hook that the
 * connection does not hold, the hook's accept. Split from {@link ChannelSubscriptions}, which owns the
 * subscriptions these consult.
 *
 * <p>Hook calls are bounded per connection. Without a bound, every such request would open a hook
 * call of its own, and a few connections facing a slow backend could hold most of
 * {@code hooks.max-in-flight}, leaving every other connection {@code unavailable}. So, per connection:
 * requests for the same channel share one open call (the decision is the same: same user, same
 * channel), and at most {@value #WINDOW} requests may wait for decisions at once; one more is answered
 * {@code unavailable} at once, without a call, as a publication past its queue is.
 *
 * <p>Threading: everything runs on the session's executor; hook answers are handed back to it.
 */
final class ChannelReads {
    /** {@code history} and {@code presence} requests of one connection that may wait for the subscribe hook at once. */
    static final int WINDOW = 8;

    private final Session session;
    private final Session.Context context;
    private final Executor executor;
    private final ChannelSubscriptions channels;
    /** The open call per channel; null until the first one (most connections never ask a hook: no map for them). */
    private Map<String, CompletableFuture<HookResult>> open;
    /** Requests waiting for a decision (several may share one call). */
    private int waiting;

    ChannelReads(Session session, Session.Context context, Executor executor, ChannelSubscriptions channels) {
        this.session = session;
        this.context = context;
        this.executor = executor;
        this.channels = channels;
    }

    /** A history read; a channel with a subscribe hook needs its accept (reading the past is reading). */
    void history(ClientMessage.History request, Permissions permissions, boolean askHook) {
        String channel = request.channel();
        if (!permissions.canRead(channel)) {
            session.error(request.id(), "forbidden", "no read permission for this channel");
            return;
        }
        if (askHook && !channels.channels().contains(channel) && context.hooks().hooksSubscribe(channel)) {
            check(channel, request.id(), () -> history(request, session.permissions(), false));
            return;
        }
        ClientMessage.Since since = request.since();
        context.history().read(channel, since == null ? 0 : since.offset(), request.limit())
                .whenComplete((page, failure) -> executor.execute(() -> {
                    if (session.isClosed()) {
                        return;
                    }
                    if (failure != null) {
                        session.error(request.id(), "unavailable", "history is unavailable right now; retry later");
                        return;
                    }
                    boolean sameEpoch = since == null || page.position().epoch().equals(since.epoch());
                    List<ServerMessage.History.Stored> publications = sameEpoch
                            ? page.publications().stream().map(e -> new ServerMessage.History.Stored(e.offset(), e.dataJson())).toList()
                            : List.of();
                    session.send(new ServerMessage.History(request.id(), channel, page.position().offset(), page.position().epoch(),
                            sameEpoch && page.complete(), publications));
                }));
    }

    /**
     * The {@code presence} request: the channel's members on every instance, for a reader of a
     * channel in {@code channels.presence} ({@code presence_disabled} for other channels, checked
     * after the permission so that it says nothing about channels the client may not read). Like a
     * history read, a channel with a subscribe hook needs its accept unless the connection holds it:
     * who is in a room is part of reading the room.
     */
    void presence(ClientMessage.Presence request, Permissions permissions, boolean askHook) {
        String channel = request.channel();
        if (!permissions.canRead(channel)) {
            session.error(request.id(), "forbidden", "no read permission for this channel");
            return;
        }
        if (!context.presence().listable(channel)) {
            session.error(request.id(), "presence_disabled", "this channel keeps no presence (channels.presence)");
            return;
        }
        if (askHook && !channels.channels().contains(channel) && context.hooks().hooksSubscribe(channel)) {
            check(channel, request.id(), () -> presence(request, session.permissions(), false));
            return;
        }
        context.presence().members(channel).whenComplete((members, failure) -> executor.execute(() -> {
            if (session.isClosed()) {
                return;
            }
            if (failure != null) {
                session.error(request.id(), "unavailable", "presence is unavailable right now; retry later");
                return;
            }
            session.send(new ServerMessage.Presence(request.id(), channel, members.members().stream()
                    .map(m -> new ServerMessage.Presence.Member(m.user(), m.connection(), m.since().toEpochMilli())).toList(),
                    members.complete()));
        }));
    }


    /** Asks the subscribe hook of {@code channel} (or joins the open call) and runs {@code accepted} on accept. */
    private void check(String channel, RequestId id, Runnable accepted) {
        if (waiting >= WINDOW) {
            session.error(id, "unavailable",
                    "too many requests of this connection are waiting for the application's backend; retry later");
            return;
        }
        waiting++;
        CompletableFuture<HookResult> call = open == null ? null : open.get(channel);
        if (call == null) {
            call = context.hooks().subscribe(channel, session.user(), session.id());
            if (!call.isDone()) { // a cached answer needs no sharing
                if (open == null) {
                    open = new HashMap<>(4);
                }
                open.put(channel, call);
                CompletableFuture<HookResult> mine = call;
                call.whenComplete((result, failure) -> executor.execute(() -> open.remove(channel, mine)));
            }
        }
        call.whenComplete((result, failure) -> executor.execute(() -> {
            waiting--;
            if (!session.isClosed()) {
                answered(session, id, result, failure, accepted);
            }
        }));
    }

    /** Runs {@code accepted}, or answers the hook's reject or failure. */
    static void answered(Session session, RequestId id, HookResult result, Throwable failure, Runnable accepted) {
        switch (failure == null ? result : new HookResult.Unavailable("the application's backend failed; retry later")) {
            case HookResult.Accepted ignored -> accepted.run();
            case HookResult.Rejected rejected -> session.error(id, rejected.code(), rejected.message());
            case HookResult.Unavailable unavailable -> session.error(id, "unavailable", unavailable.message());
        }
    }
}
