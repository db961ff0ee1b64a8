package dev.portcullis.bench.floor;

import dev.portcullis.gateway.transport.EventLoops;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code portcullis-bench floor [options]}: runs a {@link FloorServer} until SIGTERM or Ctrl-C. */
@Command(
        name = "portcullis-bench floor",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        version = "portcullis-bench 0.1.0",
        description = {
            "The fan-out floor: a bare WebSocket server that accepts every upgrade on /ws without a check, acks subscribe,"
                    + " and writes each publication (POST /api/publish on the admin port, the gateway's shape) as one pre-encoded"
                    + " frame to every subscriber. The physical limit of this machine for fan-out, to measure the gateway against:"
                    + " portcullis-bench load fanout --target floor --url ws://127.0.0.1:PORT/ws --admin-url http://127.0.0.1:ADMIN_PORT.",
            "",
            "No authentication: it binds loopback only unless --allow-remote."})
public final class FloorCommand implements Callable<Integer> {
    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
            description = "WebSocket port, path /ws; 0 = any free port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "9090",
            description = "Publish port (POST /api/publish, GET /readyz); 0 = any free port (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--threads", paramLabel = "N", description = "I/O threads (default: one per core, as the gateway).")
    Integer threads;

    @Option(names = "--transport", paramLabel = "T", defaultValue = "auto",
            description = "auto (epoll where it loads, else nio), epoll, io_uring or nio, as the gateway's server.transport (default: ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--allow-remote", description = "Allow a non-loopback --host (anyone reaching it can publish).")
    boolean allowRemote;

    /** Runs {@code floor ...} and returns the exit code (after SIGTERM or Ctrl-C). */
    public static int run(String... args) {
        return new CommandLine(new FloorCommand()).execute(args);
    }

    @Override
    public Integer call() throws InterruptedException {
        try {
            if (!allowRemote && !InetAddress.getByName(host).isLoopbackAddress()) {
                System.err.println("portcullis-bench floor: --host " + host + " is not a loopback address; the floor checks nothing"
                        + " (pass --allow-remote if you mean it)");
                return 2;
            }
        } catch (UnknownHostException e) {
            System.err.println("portcullis-bench floor: --host " + host + ": unknown host");
            return 2;
        }
        EventLoops.Transport chosen;
        try {
            chosen = EventLoops.Transport.parse(transport);
        } catch (IllegalArgumentException e) {
            System.err.println("portcullis-bench floor: --transport " + e.getMessage());
            return 2;
        }
        int io = threads != null && threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        FloorServer server;
        try {
            server = FloorServer.start(host, port, adminPort, io, chosen);
        } catch (IllegalStateException e) {
            System.err.println("portcullis-bench floor: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.printf("floor: stopping; %,d frames written, %,d sockets closed as slow%n", server.delivered(), server.closedSlow());
            server.close();
            stopped.countDown();
        }, "floor-shutdown"));
        System.out.printf("floor listening on ws://%s:%d/ws, admin http://%s:%d (pid %d, %s, %d I/O threads)%n", host, server.port(), host,
                server.adminPort(), ProcessHandle.current().pid(), server.transportName(), io);
        stopped.await();
        return 0;
    }
}
