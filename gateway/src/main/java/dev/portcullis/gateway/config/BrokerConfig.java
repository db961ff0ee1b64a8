package dev.portcullis.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * Where publications, "newest connection wins", attempt counts, logouts and presence are shared:
 * in this process ({@code local}), or through Redis ({@code redis}) so that any number of
 * instances behave as one gateway.
 *
 * @param type {@code local} or {@code redis}
 * @param redisUrls one URL (standalone, TLS, Sentinel), or the seed nodes of a cluster
 * @param redisCluster use Redis Cluster (sharded pub/sub)
 * @param redisTimeout timeout of one command
 * @param redisPrefix prefix of every key and channel
 * @param instanceId this instance's id
 * @param presenceTtl how long a dead instance's connections stay listed
 * @param canaryInterval how often the canary publishes
 * @param canaryTimeout a slower or lost canary marks the broker degraded
 */
public record BrokerConfig(
        String type,
        List<String> redisUrls,
        boolean redisCluster,
        Duration redisTimeout,
        String redisPrefix,
        String instanceId,
        Duration presenceTtl,
        Duration canaryInterval,
        Duration canaryTimeout) {

    public static final String LOCAL = "local";
    public static final String REDIS = "redis";

    public BrokerConfig {
        redisUrls = List.copyOf(redisUrls);
    }

    public boolean redis() {
        return REDIS.equals(type);
    }

    /** Passwords in Redis URLs are not printed. */
    @Override
    public String toString() {
        return "BrokerConfig[type=" + type + ", redisUrls=" + redisUrls.stream().map(u -> u.replaceAll("//[^@/]*@", "//<redacted>@")).toList()
                + ", redisCluster=" + redisCluster + ", redisTimeout=" + redisTimeout + ", redisPrefix=" + redisPrefix
                + ", instanceId=" + instanceId + ", presenceTtl=" + presenceTtl + ", canaryInterval=" + canaryInterval
                + ", canaryTimeout=" + canaryTimeout + "]";
    }
}
