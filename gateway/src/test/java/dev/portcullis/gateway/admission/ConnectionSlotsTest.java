package dev.portcullis.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.config.LimitsConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionSlotsTest {

    static final InetAddress A = address("192.0.2.1");
    static final InetAddress B = address("192.0.2.2");
    static final InetAddress V6 = address("2001:db8::1");

    @Test
    void ipv6AddressesAreCountedPerSlash64() throws Exception {
        ConnectionSlots slots = slots(0, 2);
        acquire(slots, InetAddress.getByName("2001:db8:1:2::1"));
        acquire(slots, InetAddress.getByName("2001:db8:1:2:ffff::9"));
        assertThat(slots.tryAcquire(InetAddress.getByName("2001:db8:1:2::abcd")))
                .as("same /64").isEqualTo(new ConnectionSlots.Rejected("ip_limit", 429));
        acquire(slots, InetAddress.getByName("2001:db8:1:3::1"));
        assertThat(slots.activeFor(InetAddress.getByName("2001:db8:1:2::7"))).isEqualTo(2);
    }

    @Test
    void globalCapRejectsWith503() {
        var slots = slots(2, 0);

        acquire(slots, A);
        acquire(slots, B);

        assertThat(slots.tryAcquire(V6)).isEqualTo(new ConnectionSlots.Rejected("max_connections", 503));
        assertThat(slots.active()).isEqualTo(2);
        assertThat(slots.activeFor(V6)).isZero();
        assertThat(slots.addresses()).isEqualTo(2);
    }

    @Test
    void perIpCapRejectsWith429AndLeavesOtherAddressesAlone() {
        var slots = slots(0, 2);

        acquire(slots, A);
        acquire(slots, A);

        assertThat(slots.tryAcquire(A)).isEqualTo(new ConnectionSlots.Rejected("ip_limit", 429));
        assertThat(slots.activeFor(A)).isEqualTo(2);
        assertThat(slots.active()).as("a per-IP rejection gives the global slot back").isEqualTo(2);
        acquire(slots, B);
        assertThat(slots.activeFor(B)).isEqualTo(1);
    }

    @Test
    void globalCapIsCheckedBeforePerIpCap() {
        var slots = slots(1, 1);
        acquire(slots, A);

        assertThat(slots.tryAcquire(A)).isEqualTo(new ConnectionSlots.Rejected("max_connections", 503));
    }

    @Test
    void zeroMeansUnlimited() {
        var slots = slots(0, 0);

        for (int i = 0; i < 10_000; i++) {
            acquire(slots, A);
        }

        assertThat(slots.active()).isEqualTo(10_000);
        assertThat(slots.activeFor(A)).isEqualTo(10_000);
    }

    @Test
    void releaseFreesBothCaps() {
        var slots = slots(1, 1);
        Slot slot = acquire(slots, A);

        slot.release();

        assertThat(slots.active()).isZero();
        assertThat(slots.activeFor(A)).isZero();
        acquire(slots, A);
    }

    @Test
    void secondReleaseIsANoOp() {
        var slots = slots(0, 0);
        Slot first = acquire(slots, A);
        acquire(slots, A);

        first.release();
        first.release();

        assertThat(slots.active()).isEqualTo(1);
        assertThat(slots.activeFor(A)).isEqualTo(1);
    }

    @Test
    void addressEntryIsRemovedAtZero() {
        var slots = slots(0, 3);
        List<Slot> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(acquire(slots, V6));
        }
        acquire(slots, B);

        held.forEach(Slot::release);

        assertThat(slots.addresses()).isEqualTo(1);
        assertThat(slots.activeFor(V6)).isZero();
    }

    @Test
    void rejectsNegativeLimits() {
        assertThatThrownBy(() -> slots(-1, 0)).hasMessageContaining("max-connections");
        assertThatThrownBy(() -> slots(0, -1)).hasMessageContaining("connections-per-ip");
    }

    static ConnectionSlots slots(int maxConnections, int connectionsPerIp) {
        return new ConnectionSlots(new LimitsConfig(
                0, 0, connectionsPerIp, maxConnections, 65_536, Duration.ofSeconds(10), 10, Duration.ofMinutes(1),
                64, 50, 10, Duration.ofSeconds(10), 1 << 20, Duration.ofSeconds(2), Duration.ZERO, 30));
    }

    static Slot acquire(ConnectionSlots slots, InetAddress address) {
        var result = slots.tryAcquire(address);
        assertThat(result).isInstanceOf(ConnectionSlots.Acquired.class);
        return ((ConnectionSlots.Acquired) result).slot();
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
