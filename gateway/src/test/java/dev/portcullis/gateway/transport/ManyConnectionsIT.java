package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Acceptance 11: 1,000 concurrent authenticated connections opened, held, closed; the gauge returns to 0. */
class ManyConnectionsIT {
    private static final int CONNECTIONS = 1000;

    @Test
    void aThousandConnectionsOpenHoldAndCloseCleanly() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connections-per-ip", "0"));
                ExecutorService pool = Executors.newFixedThreadPool(32)) {
            HttpClient http = HttpClient.newHttpClient();
            List<Future<WsClient>> opening = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                String token = Tokens.hs256("many-" + i);
                opening.add(pool.submit(() -> {
                    WsClient.Attempt attempt = WsClient.attempt(http, gateway.uri(token), Map.of(), List.of());
                    assertThat(attempt.upgraded()).as("status %s", attempt.status()).isTrue();
                    attempt.client().awaitMessage("connected");
                    return attempt.client();
                }));
            }
            List<WsClient> clients = new ArrayList<>();
            for (Future<WsClient> f : opening) {
                clients.add(f.get());
            }
            assertThat(gateway.metric("portcullis_connections_active")).isEqualTo(CONNECTIONS);
            for (WsClient client : clients.subList(0, 10)) {
                client.send("{\"type\":\"ping\"}");
                client.awaitMessage("pong");
            }
            List<Future<Integer>> closing = new ArrayList<>();
            for (WsClient client : clients) {
                closing.add(pool.submit(() -> {
                    client.close();
                    return client.awaitClose().code();
                }));
            }
            for (Future<Integer> code : closing) {
                assertThat(code.get()).isEqualTo(1000);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> gateway.metric("portcullis_connections_active") == 0);
            assertThat(gateway.metric("portcullis_connections_closed_total{code=\"1000\"}")).isEqualTo(CONNECTIONS);
            assertThat(gateway.gateway().connections().sockets()).isZero();
        }
    }
}
