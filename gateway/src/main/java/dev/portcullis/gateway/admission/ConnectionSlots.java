package dev.portcullis.gateway.admission;

import dev.portcullis.gateway.config.LimitsConfig;
import java.net.InetAddress;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Concurrent connection caps: {@code maxConnections} for the whole gateway (503), then
 * {@code connectionsPerIp} per client address (429); 0 means unlimited. Connections are counted
 * per address even when that cap is unlimited, so {@link #activeFor} always answers. IPv6 clients
 * are counted per /64 network: one subscriber line usually holds a whole /64, so a per-/128 count
 * would be no limit at all.
 *
 * <p>Thread-safe and non-blocking. The caps are never exceeded, even by racing acquires; the
 * per-address map holds only addresses with at least one live slot.
 */
public final class ConnectionSlots {

    public static final String MAX_CONNECTIONS = "max_connections";
    public static final String IP_LIMIT = "ip_limit";

    private static final Rejected GLOBAL_FULL = new Rejected(MAX_CONNECTIONS, 503);
    private static final Rejected IP_FULL = new Rejected(IP_LIMIT, 429);

    private final int maxConnections;
    private final int connectionsPerIp;
    private final AtomicInteger active = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perIp = new ConcurrentHashMap<>();

    public ConnectionSlots(LimitsConfig limits) {
        this(limits, -1);
    }

    /**
     * Caps as configured, with the gateway-wide one held under what {@code fileLimit} open files allow
     * (see {@link FileLimit}); -1 for no such bound.
     */
    public ConnectionSlots(LimitsConfig limits, long fileLimit) {
        this.maxConnections = FileLimit.capConnections(
                requireNonNegative(limits.maxConnections(), "max-connections"), fileLimit);
        this.connectionsPerIp = requireNonNegative(limits.connectionsPerIp(), "connections-per-ip");
    }

    /** The gateway-wide cap in force (0: none). */
    public int maxConnections() {
        return maxConnections;
    }

    /** Outcome of {@link #tryAcquire}: a slot the caller must release on close, or a rejection. */
    public sealed interface Result permits Acquired, Rejected {}

    public record Acquired(Slot slot) implements Result {}

    /** @param reason machine-readable code for the response body; {@code httpStatus} to answer with */
    public record Rejected(String reason, int httpStatus) implements Result {}

    /**
     * Reserves a slot for a new TCP connection that is about to handshake. On {@link Acquired} the
     * caller owns the slot and must release it exactly when the connection closes, whatever the
     * outcome of the later admission steps.
     */
    public Result tryAcquire(InetAddress clientAddress) {
        Objects.requireNonNull(clientAddress, "clientAddress");
        clientAddress = group(clientAddress);
        if (!incrementGlobal()) {
            return GLOBAL_FULL;
        }
        if (!incrementIp(clientAddress)) {
            active.decrementAndGet();
            return IP_FULL;
        }
        return new Acquired(new IpSlot(clientAddress));
    }

    /** Slots held now, gateway-wide. */
    public int active() {
        return active.get();
    }

    /** Slots held now by one client address. */
    public int activeFor(InetAddress clientAddress) {
        return perIp.getOrDefault(group(clientAddress), 0);
    }

    /** Client addresses holding at least one slot. */
    public int addresses() {
        return perIp.size();
    }

    private boolean incrementGlobal() {
        while (true) {
            int current = active.get();
            if (maxConnections > 0 && current >= maxConnections) {
                return false;
            }
            if (active.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /** The key an address is counted under: itself for IPv4, its /64 network for IPv6. */
    /** The unit counted per address: the address itself for IPv4, its /64 network for IPv6. */
    public static InetAddress group(InetAddress address) {
        if (!(address instanceof java.net.Inet6Address)) {
            return address;
        }
        byte[] network = java.util.Arrays.copyOf(address.getAddress(), 16);
        java.util.Arrays.fill(network, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(network);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("16 bytes are always a valid IPv6 address", e);
        }
    }

    private boolean incrementIp(InetAddress address) {
        boolean[] admitted = {false};
        perIp.compute(address, (key, count) -> {
            int held = count == null ? 0 : count;
            if (connectionsPerIp > 0 && held >= connectionsPerIp) {
                return count;
            }
            admitted[0] = true;
            return held + 1;
        });
        return admitted[0];
    }

    private void release(InetAddress address) {
        perIp.computeIfPresent(address, (key, count) -> count <= 1 ? null : count - 1);
        active.decrementAndGet();
    }

    private static int requireNonNegative(int value, String key) {
        if (value < 0) {
            throw new IllegalArgumentException("limits." + key + " must be >= 0, was " + value);
        }
        return value;
    }

    private final class IpSlot implements Slot {
        // A field updater rather than an AtomicBoolean: one object less for every connection.
        private static final AtomicIntegerFieldUpdater<IpSlot> RELEASED = AtomicIntegerFieldUpdater.newUpdater(IpSlot.class, "released");
        private final InetAddress address;
        private volatile int released;

        IpSlot(InetAddress address) {
            this.address = address;
        }

        @Override
        public void release() {
            if (RELEASED.compareAndSet(this, 0, 1)) {
                ConnectionSlots.this.release(address);
            }
        }

        @Override
        public String toString() {
            return "Slot[" + address.getHostAddress() + (released == 1 ? ", released]" : "]");
        }
    }
}
