package dev.portcullis.gateway.cluster;

/**
 * The Redis keys of channel presence ({@link RedisChannelPresence} and {@link PresenceReaper}), in one
 * place so that the store and the reaper cannot disagree on a name. Per channel the keys carry the
 * channel's hash tag (the tag of its history and pub/sub channel), so a script on one channel touches
 * one slot in Redis Cluster; per-instance keys have no tag and live wherever they hash.
 *
 * @param prefix {@code broker.redis-prefix} followed by {@code :}
 */
record PresenceKeys(String prefix) {
    /** Connection id to {@code "<sinceMillis> <user>"}: the members {@code owner} has in {@code channel}. */
    String hash(String channel, String owner) {
        return prefix + "{" + channel + "}:presence:" + RedisKeys.tag(owner);
    }

    /** The instances with members in {@code channel}. */
    String instancesOf(String channel) {
        return prefix + "{" + channel + "}:presence:instances";
    }

    /** The channel's pub/sub channel, which carries its publications and its join/leave events. */
    String pubSub(String channel) {
        return prefix + "{" + channel + "}";
    }

    /** The channels {@code owner} has (or had, until cleaned up) members in. */
    String channelsOf(String owner) {
        return prefix + "presence:channels:" + RedisKeys.tag(owner);
    }

    /** The instances with presence data, checked for dead ones every heartbeat. */
    String withPresence() {
        return prefix + "presence:instances";
    }

    /** Set by whoever reaped {@code owner}'s members; the owner, if alive after all, writes them again. */
    String reaped(String owner) {
        return prefix + "presence:reaped:" + RedisKeys.tag(owner);
    }

    /** {@code owner}'s liveness key, kept by {@link RedisPresence}'s heartbeat. */
    String liveness(String owner) {
        return prefix + "instance:" + owner;
    }
}
