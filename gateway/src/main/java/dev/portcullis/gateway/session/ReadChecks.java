package dev.portcullis.gateway.session;

import dev.portcullis.gateway.hooks.HookResult;
import dev.portcullis.gateway.protocol.RequestId;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The subscribe hook's say over one connection's {@code history} and {@code presence} requests on
 * channels it does not hold. Without a bound, every such request would open a hook call of its own,
 * and a few connections facing a slow backend could hold most of {@code hooks.max-in-flight}, leaving
 * every other connection {@code unavailable}. So, per connection: requests for the same channel share
 * one open call (the decision is the same: same user, same channel), and at most {@value #WINDOW}
 * requests may wait for decisions at once; one more is answered {@code unavailable} at once, without a
 * call, as a publication past its queue is.
 *
 * <p>Threading: everything runs on the session's executor; hook answers are handed back to it.
 */
final class ReadChecks {
    /** {@code history} and {@code presence} requests of one connection that may wait for the subscribe hook at once. */
    static final int WINDOW = 8;

    private final Session session;
    private final Session.Context context;
    private final Executor executor;
    /** The open call per channel; empty when none. */
    private final Map<String, CompletableFuture<HookResult>> open = new HashMap<>(4);
    /** Requests waiting for a decision (several may share one call). */
    private int waiting;

    ReadChecks(Session session, Session.Context context, Executor executor) {
        this.session = session;
        this.context = context;
        this.executor = executor;
    }

    /** Asks the subscribe hook of {@code channel} (or joins the open call) and runs {@code accepted} on accept. */
    void check(String channel, RequestId id, Runnable accepted) {
        if (waiting >= WINDOW) {
            session.error(id, "unavailable",
                    "too many requests of this connection are waiting for the application's backend; retry later");
            return;
        }
        waiting++;
        CompletableFuture<HookResult> call = open.get(channel);
        if (call == null) {
            call = context.hooks().subscribe(channel, session.user(), session.id());
            if (!call.isDone()) { // a cached answer needs no sharing
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
