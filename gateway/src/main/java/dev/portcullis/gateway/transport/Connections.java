package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.admission.UserConnections;
import dev.portcullis.gateway.api.ConnectionDirectory;
import dev.portcullis.gateway.api.ConnectionInfo;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Disconnect;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every socket of the public listener: those still handshaking in a channel group, the upgraded
 * ones by id and by user (for shutdown, "newest connection wins" and the backend API). Thread-safe;
 * sockets leave on their own when they close.
 *
 * <p>An upgraded socket leaves the group when it is admitted (it is in the id map before, so it is
 * always in one of the two, and shutdown, which walks both, may reach it twice: closing is
 * idempotent). Why: the group costs every socket a map entry and a second close listener (with it a
 * listener array), ~90 bytes for as long as the connection lives, and the id map already has it.
 */
public final class Connections implements ConnectionDirectory {
    private final ChannelGroup accepted = new DefaultChannelGroup("portcullis-public", GlobalEventExecutor.INSTANCE);
    /** The upgraded connections by id; also their count (ids are unique, so no separate set is kept). */
    private final ConcurrentHashMap<String, WebSocketHandler> byId = new ConcurrentHashMap<>();
    private final UserConnections<WebSocketHandler> byUser;
    private volatile boolean draining;

    public Connections(int connectionsPerUser) {
        this.byUser = new UserConnections<>(connectionsPerUser);
    }

    void accepted(Channel channel) {
        accepted.add(channel);
    }

    /**
     * Registers an upgraded connection; returns the older ones of its user that must now close (4500).
     * Call before adding the connection's own close listener: leaving the group then takes the
     * group's listener off the close future, so that the one left needs no listener array.
     */
    List<WebSocketHandler> admit(String user, WebSocketHandler connection) {
        byId.put(connection.session().id(), connection);
        accepted.remove(connection.channel());
        return byUser.admit(user, connection);
    }

    void remove(String user, WebSocketHandler connection) {
        byId.remove(connection.session().id(), connection);
        byUser.remove(user, connection);
    }

    /** True once {@link #closeAll} began: handshakes in flight are refused from then on. */
    boolean draining() {
        return draining;
    }

    /** Upgraded connections. */
    @Override
    public int active() {
        return byId.size();
    }

    /** Accepted sockets, upgraded or not (one that is being admitted may count twice for a moment). */
    public int sockets() {
        return accepted.size() + byId.size();
    }

    public List<WebSocketHandler> ofUser(String user) {
        return byUser.connections(user);
    }

    @Override
    public CompletableFuture<List<ConnectionInfo>> connections(String user) {
        List<CompletableFuture<ConnectionInfo>> parts = new ArrayList<>();
        for (WebSocketHandler handler : byUser.connections(user)) {
            CompletableFuture<ConnectionInfo> part = new CompletableFuture<>();
            handler.executor().execute(() -> {
                Session session = handler.session();
                part.complete(session.isClosed() ? null : new ConnectionInfo(session.id(), session.user(),
                        session.remote().getAddress().getHostAddress() + ":" + session.remote().getPort(),
                        session.openedAt(), session.subscriptions()));
            });
            parts.add(part);
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(done -> parts.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList());
    }

    @Override
    public boolean disconnectConnection(String connectionId, Disconnect disconnect) {
        WebSocketHandler handler = byId.get(connectionId);
        if (handler != null) {
            handler.disconnectLater(disconnect);
        }
        return handler != null;
    }

    @Override
    public Set<String> users() {
        return byUser.userIds();
    }

    @Override
    public CompletableFuture<Integer> disconnect(String user, Disconnect disconnect) {
        return CompletableFuture.completedFuture(disconnectHere(user, disconnect));
    }

    /** Closes the user's connections on this instance; returns how many. */
    public int disconnectHere(String user, Disconnect disconnect) {
        List<WebSocketHandler> handlers = byUser.connections(user);
        handlers.forEach(handler -> handler.disconnectLater(disconnect));
        return handlers.size();
    }

    /**
     * Starts closing everything: upgraded connections get {@code disconnect} as a close frame,
     * sockets still handshaking are dropped.
     */
    public void closeAll(Disconnect disconnect) {
        draining = true;
        for (WebSocketHandler handler : byId.values()) {
            handler.disconnectLater(disconnect);
        }
        for (Channel channel : accepted) {
            // Decide on the channel's loop: an upgrade in progress there finishes first, then gets the close frame.
            channel.eventLoop().execute(() -> {
                WebSocketHandler handler = channel.pipeline().get(WebSocketHandler.class);
                if (handler != null) {
                    handler.disconnectLater(disconnect);
                } else {
                    channel.close();
                }
            });
        }
    }

    /**
     * Graceful shutdown in waves: each upgraded connection is closed (1001, with a {@code disconnect}
     * hint) at a random moment within {@code window}, and told to come back after a random delay
     * within {@code window} too, so that a redeploy does not send every client to the other instances
     * at once. Sockets still handshaking are dropped now.
     */
    public void closeInWaves(Duration window) {
        draining = true;
        long windowMillis = Math.max(1, window.toMillis());
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (WebSocketHandler handler : byId.values()) {
            handler.goAwayLater(random.nextLong(windowMillis), random.nextLong(windowMillis));
        }
        for (Channel channel : accepted) {
            long delay = random.nextLong(windowMillis);
            long retryAfter = random.nextLong(windowMillis);
            channel.eventLoop().execute(() -> {
                WebSocketHandler handler = channel.pipeline().get(WebSocketHandler.class);
                if (handler != null) {
                    handler.goAwayLater(delay, retryAfter);
                } else {
                    channel.close();
                }
            });
        }
    }

    /** Waits until every socket has closed; false when {@code timeout} passed first. */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!accepted.isEmpty() || !byId.isEmpty()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Closes what is left at once, without a close handshake. */
    public void forceCloseAll() {
        for (WebSocketHandler handler : byId.values()) {
            accepted.add(handler.channel()); // one group to close and wait for
        }
        accepted.close().awaitUninterruptibly(Duration.ofSeconds(5).toMillis());
    }
}
