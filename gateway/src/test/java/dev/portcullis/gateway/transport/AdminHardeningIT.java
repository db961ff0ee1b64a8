package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.RawHttp;
import dev.portcullis.gateway.testing.TestGateway;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin listener cannot take the gateway down (issue 15, finding 1): a connection cap inside
 * the file reserve, an idle timeout and a request read timeout.
 */
class AdminHardeningIT {
    @Test
    void idleAdminConnectionsAreCappedAndTheRestGet503() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("admin.max-connections", "3"))) {
            int port = gateway.gateway().adminPort();
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    idle.add(new Socket("127.0.0.1", port));
                }
                Thread.sleep(200); // let the three be accepted and counted
                RawHttp.Response refused = RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(refused.status()).isEqualTo(503);
                assertThat(refused.body()).contains("admin_connections");
                assertThat(gateway.gateway().ready()).as("the gateway itself is fine").isTrue();
            } finally {
                for (Socket socket : idle) {
                    socket.close();
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline) {
                status = RawHttp.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status();
            }
            assertThat(status).as("answered again once the idle sockets are gone").isEqualTo(200);
        }
    }

    @Test
    void aRequestTricklingInIsCutOffWith408() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("admin.request-timeout", "1s"));
                RawHttp http = RawHttp.connect(gateway.gateway().adminPort(), Duration.ofSeconds(10))) {
            long start = System.nanoTime();
            http.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestGateway.API_KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
            RawHttp.Response response = http.readResponse();
            assertThat(response.status()).isEqualTo(408);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        }
    }

    @Test
    void anIdleAdminConnectionIsClosed() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("admin.idle-timeout", "1s"));
                Socket socket = new Socket("127.0.0.1", gateway.gateway().adminPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            long start = System.nanoTime();
            int total = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n; // the answer, then the end of the stream once idle
            }
            assertThat(total).as("the request was answered first").isPositive();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        }
    }
}
