package dev.portcullis.gateway.api;

import java.util.List;

/**
 * The other live instances as of their last heartbeat (at most a third of the presence TTL old).
 * Empty for a single instance.
 */
public interface ClusterView {
    ClusterView ALONE = List::of;

    List<InstanceStats> others();
}
