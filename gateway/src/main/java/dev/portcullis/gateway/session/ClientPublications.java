package dev.portcullis.gateway.session;

import dev.portcullis.gateway.broker.BrokerUnavailableException;
import dev.portcullis.gateway.broker.PublishOutcomeUnknownException;
import dev.portcullis.gateway.channel.ChannelNames;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.hooks.HookResult;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The {@code publish} path of one {@link Session}: permission, data (schema and sanitising, or the
 * envelope check on an encrypted channel), the
 * publish hook, then the broker, and the answer ({@code ack} with the offset, or an {@code error}).
 *
 * <p>Order: a connection's publications reach the broker in the order the client sent them, hook or
 * not. Hook calls may overlap (up to {@value #WINDOW} per connection) and finish in any order, so
 * every publication waits in a queue until all that came before it were handed to the broker (or
 * answered with an error); a publication on a channel without a hook takes the direct path only while
 * nothing waits. The broker keeps the order of publishes handed to it from one thread. The queue holds
 * at most {@value #MAX_WAITING} publications; one more is answered {@code unavailable} at once. The
 * write permission is checked on arrival and again when a waiting publication is handed to the
 * broker: a re-auth meanwhile may have withdrawn it.
 *
 * <p>Idempotency: a hooked publication's key is settled before the hook call
 * ({@link dev.portcullis.gateway.broker.Broker#idempotencyKeyFor}), so the backend sees the key the
 * broker publishes with, and a client retrying an {@code outcome_unknown} with the key it was given is
 * shown to the backend with the key of the first call. A retry the broker deduplicates publishes
 * nothing: the hook's answer to it (replacement data included) is ignored; the first stored
 * publication stands.
 *
 * <p>Threading: everything runs on the session's executor; hook answers and the broker's
 * confirmations complete elsewhere and are handed back to it.
 */
final class ClientPublications {
    private static final Logger log = LoggerFactory.getLogger(ClientPublications.class);
    /** Hook calls one connection may have open at once. */
    static final int WINDOW = 8;
    /** Publications one connection may have waiting for hooks (and for the ones before them). */
    static final int MAX_WAITING = 256;

    private final Session session;
    private final Session.Context context;
    private final Executor executor;
    private ArrayDeque<Waiting> waiting; // null until a publication waits: an empty deque is ~110 bytes per connection
    /** Hook calls open now. */
    private int calling;

    /** One publication in the queue; {@code result} is set once its hook answered (at once without a hook). */
    private static final class Waiting {
        final ClientMessage.Publish publish;
        final String namespace;
        final String dataJson;
        final boolean hooked;
        /** The idempotency key the hook is shown and the broker publishes with: the same one. */
        final String idempotencyKey;
        boolean called;
        HookResult result;

        Waiting(ClientMessage.Publish publish, String namespace, String dataJson, boolean hooked, String idempotencyKey) {
            this.publish = publish;
            this.namespace = namespace;
            this.dataJson = dataJson;
            this.hooked = hooked;
            this.idempotencyKey = idempotencyKey;
            this.result = hooked ? null : new HookResult.Accepted(dataJson);
        }
    }

    ClientPublications(Session session, Session.Context context, Executor executor) {
        this.session = session;
        this.context = context;
        this.executor = executor;
    }

    void publish(ClientMessage.Publish publish, Permissions permissions) {
        String channel = publish.channel();
        if (!permissions.canWrite(channel)) {
            session.error(publish.id(), "forbidden", "no write permission for this channel");
            return;
        }
        String namespace = ChannelNames.namespace(channel);
        String data;
        try {
            data = context.publicationData().prepare(channel, namespace, publish.data());
        } catch (ProtocolException e) {
            context.metrics().validationFailure(namespace);
            session.error(publish.id(), e.code(), e.getMessage()); // the data's own errors carry no id
            return;
        }
        boolean hooked = context.hooks().hooksPublish(channel);
        if (!hooked && (waiting == null || waiting.isEmpty())) {
            toBroker(publish, data, publish.idempotencyKey());
            return;
        }
        if (waiting == null) {
            waiting = new ArrayDeque<>();
        }
        if (waiting.size() >= MAX_WAITING) {
            session.error(publish.id(), "unavailable",
                    "too many publications of this connection are waiting for the application's backend; retry later");
            return;
        }
        // A hooked publication's key is settled before the hook sees it: a broker that makes one up (so
        // that an outcome_unknown can be retried) must not show the backend a key it never saw.
        String key = hooked ? context.broker().idempotencyKeyFor(publish.idempotencyKey()) : publish.idempotencyKey();
        waiting.add(new Waiting(publish, namespace, data, hooked, key));
        pump();
    }

    /** The session ended: what waits is dropped (hook answers still to come are ignored). */
    void closeAll() {
        if (waiting != null) {
            waiting.clear();
        }
    }

    /** Starts hook calls up to the window, then hands every answered publication at the head onward. */
    private void pump() {
        for (Waiting next : waiting) {
            if (calling >= WINDOW) {
                break;
            }
            if (next.hooked && !next.called) {
                call(next);
            }
        }
        while (!waiting.isEmpty() && waiting.peek().result != null) {
            Waiting head = waiting.poll();
            if (head.result instanceof HookResult.Accepted && !session.permissions().canWrite(head.publish.channel())) {
                // a re-auth while it waited withdrew the permission checked on arrival
                session.error(head.publish.id(), "forbidden", "no write permission for this channel");
                continue;
            }
            switch (head.result) {
                case HookResult.Accepted accepted -> toBroker(head.publish, accepted.dataJson(), head.idempotencyKey);
                case HookResult.Rejected rejected -> session.error(head.publish.id(), rejected.code(), rejected.message());
                case HookResult.Unavailable unavailable -> session.error(head.publish.id(), "unavailable", unavailable.message());
            }
        }
    }

    private void call(Waiting entry) {
        entry.called = true;
        calling++;
        ClientMessage.Publish publish = entry.publish;
        context.hooks()
                .publish(publish.channel(), entry.namespace, session.user(), session.id(), entry.dataJson, entry.idempotencyKey)
                .whenComplete((result, failure) -> executor.execute(() -> {
                    calling--;
                    if (session.isClosed()) {
                        return;
                    }
                    entry.result = failure == null ? result : new HookResult.Unavailable("the application's backend failed; retry later");
                    pump();
                }));
    }

    private void toBroker(ClientMessage.Publish publish, String data, String idempotencyKey) {
        context.broker().publish(publish.channel(), data, idempotencyKey).whenComplete((position, failure) -> executor.execute(() -> {
            if (failure == null) {
                context.metrics().publication("client");
                session.send(ServerMessage.Ack.published(publish.id(), position.offset(), position.epoch()));
            } else {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                if (cause instanceof PublishOutcomeUnknownException unknown) {
                    context.metrics().broker().outcomeUnknown("client");
                    session.send(new ServerMessage.Error(publish.id(), "outcome_unknown",
                            "the broker did not answer in time: this may or may not have been published; retry with this idempotencyKey",
                            null, unknown.idempotencyKey()));
                    return;
                }
                if (!(cause instanceof BrokerUnavailableException)) {
                    try (var ignored = MDC.putCloseable("conn", session.id())) {
                        log.warn("publish failed", cause);
                    }
                }
                session.error(publish.id(), "unavailable", "publishing is unavailable right now; retry later");
            }
        }));
    }
}
