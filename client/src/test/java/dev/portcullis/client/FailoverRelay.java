package dev.portcullis.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay standing in for the load balancer in front of a cluster: each new connection goes to
 * the first gateway in its preference list that accepts it, and when that gateway goes away (killed,
 * or its listener closed for a graceful shutdown) the relayed connections end with it and new ones go
 * to the next. The client under test has one URL; this is how it reaches "another instance".
 */
final class FailoverRelay implements AutoCloseable {
    private final ServerSocket server;
    private final int[] backendPorts;
    private final ConcurrentHashMap<Integer, AtomicInteger> relayed = new ConcurrentHashMap<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    /** Relays to {@code backendPorts} (loopback), preferring them in this order. */
    FailoverRelay(int... backendPorts) throws IOException {
        this.backendPorts = backendPorts.clone();
        this.server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("failover-relay-" + server.getLocalPort()).start(this::acceptLoop);
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/ws");
    }

    /** How many connections have been relayed to the gateway on {@code port} so far. */
    int relayedTo(int port) {
        AtomicInteger count = relayed.get(port);
        return count == null ? 0 : count.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().start(() -> relay(client));
        }
    }

    private void relay(Socket client) {
        for (int port : backendPorts) {
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            } catch (IOException refused) {
                closeQuietly(upstream);
                continue; // down: try the next one
            }
            relayed.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
            try {
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException ignored) {
                // only latency
            }
            open.add(client);
            open.add(upstream);
            Thread.ofVirtual().start(() -> pump(upstream, client));
            pump(client, upstream);
            return;
        }
        closeQuietly(client); // nobody up: the client sees a failed connection and backs off
    }

    private void pump(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            byte[] buffer = new byte[16384];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                out.write(buffer, 0, n);
            }
        } catch (IOException gone) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket socket : open) {
            closeQuietly(socket);
        }
    }
}
