package dev.portcullis.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UserConnectionsTest {

    @Test
    void limitOneNewestWins() {
        var registry = new UserConnections<String>(1);

        assertThat(registry.admit("alice", "c1")).isEmpty();
        assertThat(registry.admit("alice", "c2")).containsExactly("c1");

        assertThat(registry.connections("alice")).containsExactly("c2");
        assertThat(registry.size()).isEqualTo(1);
    }

    @Test
    void limitTwoEvictsOldestFirst() {
        var registry = new UserConnections<String>(2);
        registry.admit("alice", "c1");
        registry.admit("alice", "c2");

        assertThat(registry.admit("alice", "c3")).containsExactly("c1");
        assertThat(registry.admit("alice", "c4")).containsExactly("c2");
        assertThat(registry.connections("alice")).containsExactly("c3", "c4");
    }

    @Test
    void usersAreIndependent() {
        var registry = new UserConnections<String>(1);
        registry.admit("alice", "a1");

        assertThat(registry.admit("bob", "b1")).isEmpty();
        assertThat(registry.users()).isEqualTo(2);
        assertThat(registry.size()).isEqualTo(2);
    }

    @Test
    void removeDropsTheUserWhenEmpty() {
        var registry = new UserConnections<String>(2);
        registry.admit("alice", "c1");
        registry.admit("alice", "c2");

        assertThat(registry.remove("alice", "c1")).isTrue();
        assertThat(registry.connections("alice")).containsExactly("c2");
        assertThat(registry.remove("alice", "c2")).isTrue();

        assertThat(registry.users()).isZero();
        assertThat(registry.size()).isZero();
        assertThat(registry.connections("alice")).isEmpty();
    }

    @Test
    void removeOfAnEvictedOrUnknownConnectionReturnsFalse() {
        var registry = new UserConnections<String>(1);
        registry.admit("alice", "c1");
        registry.admit("alice", "c2");

        assertThat(registry.remove("alice", "c1")).isFalse();
        assertThat(registry.remove("bob", "c2")).isFalse();
        assertThat(registry.connections("alice")).containsExactly("c2");
        assertThat(registry.users()).isEqualTo(1);
    }

    @Test
    void admittingTheSameConnectionTwiceChangesNothing() {
        var registry = new UserConnections<String>(2);
        registry.admit("alice", "c1");

        assertThat(registry.admit("alice", "c1")).isEmpty();
        assertThat(registry.size()).isEqualTo(1);
    }

    @Test
    void zeroMeansUnlimited() {
        var registry = new UserConnections<Integer>(0);

        for (int i = 0; i < 1_000; i++) {
            assertThat(registry.admit("service", i)).isEmpty();
        }

        assertThat(registry.size()).isEqualTo(1_000);
        assertThat(registry.connections("service")).hasSize(1_000).startsWith(0, 1, 2).endsWith(999);
    }

    @Test
    void snapshotDoesNotChangeWithTheRegistry() {
        var registry = new UserConnections<String>(0);
        registry.admit("alice", "c1");
        var snapshot = registry.connections("alice");

        registry.admit("alice", "c2");

        assertThat(snapshot).containsExactly("c1");
    }

    @Test
    void aUserGoesFromOneConnectionToSeveralAndBackInOrder() {
        UserConnections<String> registry = new UserConnections<>(0);
        registry.admit("alice", "c1");
        assertThat(registry.connections("alice")).containsExactly("c1");
        registry.admit("alice", "c2");
        registry.admit("alice", "c3");
        assertThat(registry.connections("alice")).containsExactly("c1", "c2", "c3");
        assertThat(registry.remove("alice", "c1")).isTrue();
        assertThat(registry.remove("alice", "c3")).isTrue();
        assertThat(registry.connections("alice")).containsExactly("c2");
        registry.admit("alice", "c4");
        assertThat(registry.connections("alice")).containsExactly("c2", "c4");
        assertThat(registry.remove("alice", "c4")).isTrue();
        assertThat(registry.remove("alice", "c4")).isFalse();
        assertThat(registry.remove("alice", "c2")).isTrue();
        assertThat(registry.connections("alice")).isEmpty();
        assertThat(registry.users()).isZero();
        assertThat(registry.size()).isZero();
    }
}
