package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of three masters (no replicas) on free loopback ports, created with
 * {@code redis-cli --cluster create}, for integration tests.
 */
public final class RedisClusterServers implements AutoCloseable {
    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisClusterServers() {}

    public static RedisClusterServers start() {
        RedisClusterServers cluster = new RedisClusterServers();
        try {
            for (int i = 0; i < 3; i++) {
                cluster.nodes.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000"));
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            cluster.nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            run(create);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!clusterOk(cluster.nodes)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("redis cluster did not reach cluster_state:ok");
                }
                Thread.sleep(100);
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw new IllegalStateException("cannot start a redis cluster: " + e.getMessage(), e);
        }
    }

    public List<Integer> ports() {
        return nodes.stream().map(RedisServer::port).toList();
    }

    /** The seed list for {@code broker.redis-url}. */
    public String urls() {
        return String.join(",", nodes.stream().map(RedisServer::url).toList());
    }

    private static boolean clusterOk(List<RedisServer> nodes) throws IOException, InterruptedException {
        for (RedisServer node : nodes) {
            String info = run(List.of("redis-cli", "-p", Integer.toString(node.port()), "cluster", "info"));
            if (!info.contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
