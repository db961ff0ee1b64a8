package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.Tokens;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway whose open-file limit is below {@code limits.max-connections} answers 503 to the
 * connections it cannot hold, instead of running out of file descriptors in its accept loop.
 */
class FileLimitIT {
    private static final int FILE_LIMIT = 400;
    /** {@code FileLimit.usableConnections(400)}: 400 minus the reserve of 256. */
    private static final int USABLE = 144;

    @Test
    void connectionsBeyondWhatTheFileLimitAllowsGet503AndTheGatewayKeepsWorking(@TempDir Path dir) throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(dir, """
                server:
                  host: 127.0.0.1
                  port: 0
                admin:
                  port: 0
                auth:
                  hmac-secret: %s
                limits:
                  max-connections: 100000
                  connections-per-ip: 0
                  connect-attempts-per-user-per-minute: 0
                """.formatted(Tokens.SECRET), "ulimit -n " + FILE_LIMIT)) {
            assertThat(gateway.output()).anySatisfy(line -> assertThat(line)
                    .contains("limits.max-connections 100000 is more than this process can hold with " + FILE_LIMIT + " open files")
                    .contains("capped at " + USABLE));
            List<RawWebSocket> open = new ArrayList<>();
            int upgraded = 0;
            int refused503 = 0;
            try {
                for (int i = 0; i < USABLE + 30; i++) {
                    RawWebSocket ws = RawWebSocket.open(gateway.port(), "/ws?token=" + Tokens.hs256("fd-" + i));
                    if (ws.status() == 101) {
                        upgraded++;
                        open.add(ws);
                    } else {
                        assertThat(ws.status()).as("connection %d", i).isEqualTo(503);
                        assertThat(ws.readBody()).contains("max_connections");
                        refused503++;
                        ws.close();
                    }
                }
                assertThat(upgraded).isEqualTo(USABLE);
                assertThat(refused503).isEqualTo(30);

                // Room again once some leave: the cap is a count of live connections, not a fuse.
                for (int i = 0; i < 10; i++) {
                    open.remove(open.size() - 1).close();
                }
                RawWebSocket again = awaitUpgrade(gateway.port());
                open.add(again);
            } finally {
                for (RawWebSocket ws : open) {
                    ws.close();
                }
            }
            assertThat(gateway.output()).noneSatisfy(line -> assertThat(line).containsIgnoringCase("too many open files"));
        }
    }

    private static RawWebSocket awaitUpgrade(int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            RawWebSocket ws = RawWebSocket.open(port, "/ws?token=" + Tokens.hs256("fd-again"));
            if (ws.status() == 101 || System.nanoTime() > deadline) {
                assertThat(ws.status()).as("a new connection after others closed").isEqualTo(101);
                return ws;
            }
            ws.close();
            Thread.sleep(100); // the server notices the closes asynchronously
        }
    }
}
