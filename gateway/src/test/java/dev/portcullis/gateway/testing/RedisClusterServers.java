package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of three masters, optionally with replicas, on free loopback ports, created
 * with {@code redis-cli --cluster create}, for integration tests. Node timeout is 2 s, so a killed
 * master is failed over by its replica in a few seconds.
 */
public final class RedisClusterServers implements AutoCloseable {
    private static final Duration POLL_CLI_TIMEOUT = Duration.ofSeconds(1);

    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisClusterServers() {}

    /** Three masters, no replicas. */
    public static RedisClusterServers start() {
        return start(0);
    }

    /**
     * Three masters with {@code replicasPerMaster} replicas each. Returns once every node says
     * cluster_state:ok and knows every other node, and every replica's link to its master is up:
     * a replica that has not synced, or masters that do not know it yet, would not fail over.
     */
    public static RedisClusterServers start(int replicasPerMaster) {
        RedisClusterServers cluster = new RedisClusterServers();
        try {
            int count = 3 * (1 + replicasPerMaster);
            for (int i = 0; i < count; i++) {
                // explicit bus port: the default port+10000 does not exist for ephemeral ports above 55535
                cluster.nodes.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000", "--cluster-port", Integer.toString(RedisServer.freePort()),
                        "--enable-debug-command", "local",
                        // Redis 7 delays a diskless sync 5 s by default, waiting for more replicas
                        "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"));
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            cluster.nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
            create.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
            run(create);
            RedisServer.await("a formed cluster", Duration.ofSeconds(30), () -> cluster.formed(count, replicasPerMaster));
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw new IllegalStateException("cannot start a redis cluster: " + e.getMessage(), e);
        }
    }

    private boolean formed(int count, int replicasPerMaster) {
        for (RedisServer node : nodes) {
            String info = node.cli(POLL_CLI_TIMEOUT, "CLUSTER", "INFO");
            if (!info.contains("cluster_state:ok") || !info.matches("(?s).*cluster_known_nodes:" + count + "\\s.*")) {
                return false;
            }
            List<Node> view = view(node);
            if (view.stream().filter(n -> n.master() && !n.slots().isEmpty()).count() != 3
                    || view.stream().filter(n -> !n.master() && n.masterId() != null).count() != 3L * replicasPerMaster) {
                return false;
            }
            if (view.stream().anyMatch(n -> !n.master() && n.port() == node.port())
                    && !node.cli(POLL_CLI_TIMEOUT, "INFO", "replication").contains("master_link_status:up")) {
                return false;
            }
        }
        return true;
    }

    public List<Integer> ports() {
        return nodes.stream().map(RedisServer::port).toList();
    }

    public List<RedisServer> nodes() {
        return List.copyOf(nodes);
    }

    public RedisServer node(int port) {
        return nodes.stream().filter(node -> node.port() == port).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no cluster node on port " + port));
    }

    /** The seed list for {@code broker.redis-url}. */
    public String urls() {
        return String.join(",", nodes.stream().map(RedisServer::url).toList());
    }

    /** The port of the master serving {@code slot}, as the first answering node sees it (it may be dead: views lag). */
    public int masterOfSlot(int slot) {
        return masterOfSlot(view(firstAnswering()), slot);
    }

    /** Ports of the replicas of the master on {@code masterPort}, as the first answering node sees it. */
    public List<Integer> replicasOf(int masterPort) {
        List<Node> view = view(firstAnswering());
        String masterId = view.stream().filter(n -> n.port() == masterPort).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no cluster node on port " + masterPort)).id();
        return view.stream().filter(n -> !n.master() && masterId.equals(n.masterId())).map(Node::port).toList();
    }

    /**
     * Polls until every answering node agrees that {@code slot} is served by one answering node other
     * than {@code deadMasterPort}, and says cluster_state:ok; returns that node's port.
     */
    public int awaitPromotion(int deadMasterPort, int slot, Duration timeout) {
        int[] promoted = new int[1];
        RedisServer.await("a new master for slot " + slot + " instead of " + deadMasterPort, timeout, () -> {
            List<RedisServer> live = nodes.stream().filter(RedisServer::isAnswering).toList();
            Integer agreed = null;
            for (RedisServer node : live) {
                int master = masterOfSlot(view(node), slot);
                if (master == deadMasterPort || agreed != null && agreed != master
                        || !node.cli(POLL_CLI_TIMEOUT, "CLUSTER", "INFO").contains("cluster_state:ok")) {
                    return false;
                }
                agreed = master;
            }
            if (agreed == null || !node(agreed).isAnswering()) {
                return false;
            }
            promoted[0] = agreed;
            return true;
        });
        return promoted[0];
    }

    private RedisServer firstAnswering() {
        return nodes.stream().filter(RedisServer::isAnswering).findFirst()
                .orElseThrow(() -> new IllegalStateException("no cluster node is running"));
    }

    private static int masterOfSlot(List<Node> view, int slot) {
        return view.stream().filter(n -> n.master() && n.serves(slot)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no master serves slot " + slot)).port();
    }

    /** One line of CLUSTER NODES: {@code id ip:port@cport[,hostname] flags master-id ping pong epoch link slot...}. */
    private record Node(String id, int port, boolean master, String masterId, List<String> slots) {
        boolean serves(int slot) {
            for (String range : slots) {
                if (range.startsWith("[")) {
                    continue; // [slot->-id] / [slot-<-id]: a migration in progress, not ownership
                }
                int dash = range.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
                if (slot >= from && slot <= to) {
                    return true;
                }
            }
            return false;
        }
    }

    private static List<Node> view(RedisServer node) {
        List<Node> view = new ArrayList<>();
        for (String line : node.cli(POLL_CLI_TIMEOUT, "CLUSTER", "NODES").split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 8) {
                continue;
            }
            String address = f[1];
            int port = Integer.parseInt(address.substring(address.lastIndexOf(':', address.indexOf('@')) + 1, address.indexOf('@')));
            List<String> flags = List.of(f[2].split(","));
            boolean master = flags.contains("master"); // a failed master keeps its slots until a replica takes them
            String masterId = Objects.equals(f[3], "-") ? null : f[3];
            view.add(new Node(f[0], port, master, masterId, List.of(f).subList(8, f.length)));
        }
        return view;
    }

    /** Runs a command to its end, or kills it after 30 s (a create that never sees the nodes join would wait forever). */
    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                output.append(new String(process.getInputStream().readAllBytes()));
            } catch (IOException ignored) {
                // stream closed by destroyForcibly below
            }
        });
        boolean ended = process.waitFor(30, TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        reader.join(5_000);
        if (!ended || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output.toString();
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
