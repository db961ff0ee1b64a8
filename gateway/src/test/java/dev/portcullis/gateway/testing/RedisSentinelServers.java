package dev.portcullis.gateway.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A real Sentinel deployment on free loopback ports, for failover tests: one master, two replicas
 * and three Sentinels (quorum 2, 1 s down-after). {@link #start()} returns only once every Sentinel
 * knows both replicas (with a fresh INFO) and both other Sentinels, because a Sentinel that has
 * not yet heard of a replica or a peer cannot fail over, and a test would wait for nothing.
 */
public final class RedisSentinelServers implements AutoCloseable {
    private static final String MASTER_NAME = "mymaster";
    /** Diskless sync without delay: Redis 7 waits 5 s by default for more replicas to share one transfer. */
    private static final String[] DATA_ARGS = {"--enable-debug-command", "local",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"};
    private static final Duration POLL_CLI_TIMEOUT = Duration.ofSeconds(1);

    private final List<RedisServer> dataNodes = new ArrayList<>();
    private final List<RedisServer> sentinels = new ArrayList<>();

    private RedisSentinelServers() {}

    public static RedisSentinelServers start() {
        RedisSentinelServers set = new RedisSentinelServers();
        try {
            RedisServer master = RedisServer.start(DATA_ARGS);
            set.dataNodes.add(master);
            for (int i = 0; i < 2; i++) {
                set.dataNodes.add(RedisServer.startReplicaOf(master, DATA_ARGS));
            }
            // replicas first: a Sentinel learns them from the master's INFO, which it asks at once, then only every 10 s
            RedisServer.await("replicas in sync", Duration.ofSeconds(15), () -> set.dataNodes.subList(1, 3).stream()
                    .allMatch(replica -> replica.cli(POLL_CLI_TIMEOUT, "INFO", "replication").contains("master_link_status:up")));
            for (int i = 0; i < 3; i++) {
                set.sentinels.add(RedisServer.startSentinel(MASTER_NAME, master.port(), 2));
            }
            // peers find each other through hello messages, published every 2 s
            RedisServer.await("sentinels aware of 2 replicas and 2 peers", Duration.ofSeconds(20),
                    () -> set.sentinels.stream().allMatch(RedisSentinelServers::ready));
            return set;
        } catch (RuntimeException e) {
            set.close();
            throw new IllegalStateException("cannot start redis sentinels: " + e.getMessage(), e);
        }
    }

    private static boolean ready(RedisServer sentinel) {
        Map<String, String> master = fields(sentinel.cli(POLL_CLI_TIMEOUT, "SENTINEL", "MASTER", MASTER_NAME));
        if (!"master".equals(master.get("flags")) || !"2".equals(master.get("num-slaves"))
                || !"2".equals(master.get("num-other-sentinels"))) {
            return false;
        }
        List<Map<String, String>> replicas = entries(sentinel.cli(POLL_CLI_TIMEOUT, "SENTINEL", "REPLICAS", MASTER_NAME));
        List<Map<String, String>> peers = entries(sentinel.cli(POLL_CLI_TIMEOUT, "SENTINEL", "SENTINELS", MASTER_NAME));
        return replicas.size() == 2 && peers.size() == 2
                && replicas.stream().allMatch(r -> "slave".equals(r.get("flags")) && "ok".equals(r.get("master-link-status")))
                && peers.stream().allMatch(p -> "sentinel".equals(p.get("flags")));
    }

    public String masterName() {
        return MASTER_NAME;
    }

    /** {@code redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/0#mymaster}, for {@code broker.redis-url}. */
    public String url() {
        return "redis-sentinel://" + sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","))
                + "/0#" + MASTER_NAME;
    }

    public List<RedisServer> sentinels() {
        return List.copyOf(sentinels);
    }

    /** Master and replicas as started; which one is master changes with failovers, see {@link #master()}. */
    public List<RedisServer> dataNodes() {
        return List.copyOf(dataNodes);
    }

    /** The data node an answering Sentinel currently names as master (it may be dead: Sentinels lag). */
    public RedisServer master() {
        RuntimeException last = null;
        for (RedisServer sentinel : sentinels) {
            if (!sentinel.isAnswering()) {
                continue;
            }
            try {
                return dataNode(sentinelMasterPort(sentinel));
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no sentinel answers get-master-addr-by-name", last);
    }

    /** The live (not killed) data nodes other than {@link #master()}; a stopped replica is still listed. */
    public List<RedisServer> replicas() {
        RedisServer master = master();
        return dataNodes.stream().filter(node -> node != master && node.isAlive()).toList();
    }

    /**
     * Polls until every answering Sentinel names the same master other than {@code oldMasterPort},
     * sees it healthy with no failover in progress, and that node itself says {@code role:master}.
     * Why more than one Sentinel's answer: the leader names the promoted replica while it still
     * reconfigures the others, and the rest switch only when its hello reaches them (up to ~2 s).
     * Why "healthy": after a switch a Sentinel reconnects to the new master only after up to 1 s
     * (its reconnect period), which races the 1 s down-after; a Sentinel that has seen no PONG yet
     * can flag the new master down and, counting its peers' "down" votes (kept up to 5 s) about
     * the old master, start a second failover. Waiting until every Sentinel has a PONG from the new
     * master ({@code last-ping-sent} 0) closes that window; if a second failover happens first,
     * this returns its result.
     */
    public RedisServer awaitNewMaster(int oldMasterPort, Duration timeout) {
        RedisServer[] found = new RedisServer[1];
        RedisServer.await("a new master instead of " + oldMasterPort, timeout, () -> {
            List<RedisServer> live = sentinels.stream().filter(RedisServer::isAnswering).toList();
            List<Integer> named = live.stream().map(RedisSentinelServers::sentinelMasterPort).distinct().toList();
            if (named.size() != 1 || named.getFirst() == oldMasterPort) {
                return false;
            }
            for (RedisServer sentinel : live) {
                Map<String, String> master = fields(sentinel.cli(POLL_CLI_TIMEOUT, "SENTINEL", "MASTER", MASTER_NAME));
                if (!"master".equals(master.get("flags")) || !"0".equals(master.get("last-ping-sent"))
                        || !String.valueOf(named.getFirst()).equals(master.get("port"))) {
                    return false;
                }
            }
            RedisServer candidate = dataNode(named.getFirst());
            if (candidate.isAnswering() && candidate.cli(POLL_CLI_TIMEOUT, "INFO", "replication").contains("role:master")) {
                found[0] = candidate;
                return true;
            }
            return false;
        });
        return found[0];
    }

    private static int sentinelMasterPort(RedisServer sentinel) {
        String[] addr = sentinel.cli(POLL_CLI_TIMEOUT, "SENTINEL", "get-master-addr-by-name", MASTER_NAME).split("\n");
        if (addr.length != 2) {
            throw new IllegalStateException("unexpected get-master-addr-by-name answer: " + String.join(" ", addr));
        }
        return Integer.parseInt(addr[1].trim());
    }

    private RedisServer dataNode(int port) {
        return dataNodes.stream().filter(node -> node.port() == port).findFirst()
                .orElseThrow(() -> new IllegalStateException("sentinel names an unknown master port " + port));
    }

    /** One flattened key/value reply (redis-cli without a tty prints one value a line). */
    private static Map<String, String> fields(String output) {
        List<Map<String, String>> entries = entries(output);
        return entries.isEmpty() ? Map.of() : entries.getFirst();
    }

    /** A flattened list of key/value replies, each one starting with its {@code name} key. */
    private static List<Map<String, String>> entries(String output) {
        List<Map<String, String>> entries = new ArrayList<>();
        String[] lines = output.isEmpty() ? new String[0] : output.split("\n");
        Map<String, String> current = null;
        for (int i = 0; i + 1 < lines.length; i += 2) {
            String key = lines[i].trim();
            if (key.equals("name") || current == null) {
                current = new HashMap<>();
                entries.add(current);
            }
            current.put(key, lines[i + 1].trim());
        }
        return entries;
    }

    /** Sentinels first, so none of them starts a failover while the data nodes go down. */
    @Override
    public void close() {
        sentinels.forEach(RedisServer::close);
        dataNodes.forEach(RedisServer::close);
    }
}
