package dev.portcullis.gateway.admission;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live connections of each user, capped at {@code connectionsPerUser} (0 means unlimited)
 * with the newest winning: admitting one more evicts the user's oldest ones, which the caller
 * closes with 4500.
 *
 * <p>Thread-safe and non-blocking. Every connection leaves the registry exactly once, either
 * returned by {@link #admit} or removed by a {@link #remove} that returns true; a connection that
 * was evicted is no longer present, so its later {@code remove} returns false. Users without
 * connections have no entry. Connections are compared with {@code equals}/{@code hashCode}
 * (identity for Netty channels).
 *
 * @param <C> the connection handle
 */
public final class UserConnections<C> {

    private final int connectionsPerUser;
    /**
     * Per user, the connection itself, or a {@link Several} once the user has more than one. Most
     * users hold one connection, and an insertion-ordered set costs ~220 bytes more than a reference:
     * for every connection, at tens of thousands of them.
     */
    private final ConcurrentHashMap<String, Object> byUser = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();

    /** Two or more connections of one user, oldest first. Private, so never a connection handle itself. */
    private static final class Several<C> extends LinkedHashSet<C> {}

    public UserConnections(int connectionsPerUser) {
        if (connectionsPerUser < 0) {
            throw new IllegalArgumentException(
                    "limits.connections-per-user must be >= 0, was " + connectionsPerUser);
        }
        this.connectionsPerUser = connectionsPerUser;
    }

    /**
     * Registers {@code conn} for {@code user}. Returns the connections, oldest first, that must now
     * be closed so the user keeps at most the limit; they are already removed from the registry.
     * Never contains {@code conn} itself. Admitting a connection that is already registered changes
     * nothing.
     */
    public List<C> admit(String user, C conn) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(conn, "conn");
        List<C> evicted = new ArrayList<>(0);
        byUser.compute(user, (key, value) -> {
            if (value == null) {
                size.incrementAndGet();
                return conn;
            }
            Several<C> current = several(value);
            if (current == null) {
                if (value.equals(conn)) {
                    return value;
                }
                current = new Several<>();
                current.add(single(value));
            }
            if (current.add(conn)) {
                size.incrementAndGet();
            }
            if (connectionsPerUser > 0) {
                Iterator<C> oldest = current.iterator();
                while (current.size() > connectionsPerUser) {
                    evicted.add(oldest.next());
                    oldest.remove();
                    size.decrementAndGet();
                }
            }
            return compact(current);
        });
        return evicted;
    }

    /** Unregisters {@code conn} on close. Returns false if it was not registered (or was evicted). */
    public boolean remove(String user, C conn) {
        boolean[] removed = {false};
        byUser.computeIfPresent(user, (key, value) -> {
            Several<C> current = several(value);
            if (current == null) {
                removed[0] = value.equals(conn);
                return removed[0] ? null : value;
            }
            removed[0] = current.remove(conn);
            return compact(current);
        });
        if (removed[0]) {
            size.decrementAndGet();
        }
        return removed[0];
    }

    /** Snapshot of the user's connections, oldest first; empty if none. */
    public List<C> connections(String user) {
        Object value = byUser.get(user);
        if (value == null) {
            return List.of();
        }
        if (several(value) == null) {
            C only = single(value);
            return List.of(only);
        }
        List<C> snapshot = new ArrayList<>(0);
        byUser.computeIfPresent(user, (key, current) -> {
            Several<C> all = several(current);
            if (all == null) {
                snapshot.add(single(current));
            } else {
                snapshot.addAll(all); // under the map's lock: the set is not modified meanwhile
            }
            return current;
        });
        return List.copyOf(snapshot);
    }

    @SuppressWarnings("unchecked")
    private static <C> Several<C> several(Object value) {
        return value instanceof Several<?> set ? (Several<C>) set : null;
    }

    @SuppressWarnings("unchecked")
    private static <C> C single(Object value) {
        return (C) value;
    }

    /** What the map holds for {@code current}: nothing, the one connection, or the set. */
    private static Object compact(Several<?> current) {
        return current.isEmpty() ? null : current.size() == 1 ? current.iterator().next() : current;
    }

    /** Users with at least one connection. */
    public int users() {
        return byUser.size();
    }

    /** Connections of all users. */
    public int size() {
        return size.get();
    }

    /** The users with at least one registered connection (a snapshot). */
    public java.util.Set<String> userIds() {
        return java.util.Set.copyOf(byUser.keySet());
    }
}
