package dev.portcullis.gateway.admission;

import java.time.Instant;

/**
 * Where upgraded connections are announced beyond this process: for "newest connection wins"
 * across instances and for cluster-wide presence. The local limit is enforced by
 * {@link UserConnections} in any case; a cluster registry closes older connections on other
 * instances too. Calls never block and never fail: a registry that cannot reach its store
 * degrades to local enforcement and says so in its metrics.
 */
public interface SessionRegistry {
    SessionRegistry LOCAL = new SessionRegistry() {
        @Override
        public void registered(String user, String connectionId, String remote, Instant since) {}

        @Override
        public void unregistered(String user, String connectionId) {}
    };

    void registered(String user, String connectionId, String remote, Instant since);

    void unregistered(String user, String connectionId);
}
