package dev.portcullis.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} process on a free loopback port, without persistence (a copy of the
 * gateway's test helper, whose classes are not in the gateway jar). Killed with SIGKILL on close.
 */
final class RedisServer implements AutoCloseable {
    private final int port;
    private final Path dir;
    private final Process process;

    private RedisServer(int port, Path dir, Process process) {
        this.port = port;
        this.dir = dir;
        this.process = process;
    }

    static RedisServer start() {
        try {
            int port = GatewayFixture.freePort();
            Path dir = Files.createTempDirectory("portcullis-client-redis-" + port);
            Process process = new ProcessBuilder(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.log").toFile())
                    .start();
            RedisServer server = new RedisServer(port, dir, process);
            server.awaitListening();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (is the Debian package redis-server installed?)", e);
        }
    }

    String url() {
        return "redis://127.0.0.1:" + port;
    }

    private void awaitListening() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    close();
                    throw new IOException("redis-server exited: " + Files.readString(dir.resolve("redis.log")));
                }
                try {
                    Thread.sleep(20); // polling a port that has no other way to tell us it is open
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
            }
        }
        close();
        throw new IOException("redis-server did not listen on " + port);
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
