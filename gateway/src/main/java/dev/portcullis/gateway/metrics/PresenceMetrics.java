package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.IntSupplier;

/**
 * Channel presence: {@code portcullis_presence_members} is the number of channel members this
 * instance holds (subscriptions of channels in {@code channels.presence} or
 * {@code channels.join-leave}); {@code portcullis_presence_dead_members_removed_total} counts members
 * of dead instances this instance removed from Redis (each announced with one {@code leave} where
 * the channel has join/leave events). Created by {@link GatewayMetrics}; thread-safe.
 */
public final class PresenceMetrics {
    private final MeterRegistry registry;
    private final Counter deadMembersRemoved;

    PresenceMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.deadMembersRemoved = Counter.builder("portcullis.presence.dead.members.removed")
                .description("Channel members of dead instances removed by this instance (one leave event each on join-leave channels)")
                .register(registry);
    }

    /** Binds the members gauge to the presence store; once, by the gateway. */
    public void members(IntSupplier members) {
        Gauge.builder("portcullis.presence.members", members, IntSupplier::getAsInt)
                .description("Channel members held by this instance (presence and join-leave channels)")
                .register(registry);
    }

    public void deadMembersRemoved(long count) {
        deadMembersRemoved.increment(count);
    }
}
