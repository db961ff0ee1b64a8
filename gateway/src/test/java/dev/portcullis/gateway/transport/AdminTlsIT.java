package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.testing.TestGateway;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin listener over HTTPS, and with {@code admin.tls.client-ca} over mutual TLS: only clients
 * holding a certificate from that CA get an answer (metrics, health, the backend API alike).
 */
class AdminTlsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void withAClientCaOnlyClientsWithACertificateFromItAreServed() throws Exception {
        X509Bundle server = TestCertificates.server("admin");
        X509Bundle ca = TestCertificates.authority("admin clients");
        X509Bundle operator = TestCertificates.client("prometheus", ca);
        X509Bundle stranger = TestCertificates.client("stranger", TestCertificates.authority("some other CA"));
        Path cert = dir.resolve("admin.crt");
        Path key = dir.resolve("admin.key");
        Path clientCa = dir.resolve("clients-ca.crt");
        TestCertificates.writePair(server, cert, key);
        TestCertificates.write(clientCa, ca.getCertificatePEM());
        try (TestGateway gateway = TestGateway.start(Map.of(
                "admin.tls.cert", cert.toString(), "admin.tls.key", key.toString(), "admin.tls.client-ca", clientCa.toString()))) {
            int port = gateway.gateway().adminPort();
            SSLContext withCertificate = TestCertificates.trusting(operator, server);

            assertThat(get(withCertificate, port, "/readyz").statusCode()).isEqualTo(200);
            HttpResponse<String> api = send(withCertificate, HttpRequest.newBuilder(uri(port, "/api/stats"))
                    .header("Authorization", "Bearer " + TestGateway.API_KEY).GET().build());
            assertThat(api.statusCode()).isEqualTo(200);

            assertThatThrownBy(() -> get(TestCertificates.trusting(null, server), port, "/readyz"))
                    .as("no client certificate").isInstanceOf(IOException.class);
            assertThatThrownBy(() -> get(TestCertificates.trusting(stranger, server), port, "/readyz"))
                    .as("a client certificate from another CA").isInstanceOf(IOException.class);
            assertThatThrownBy(() -> send(null, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build()))
                    .as("plain HTTP").isInstanceOf(IOException.class);

            // The admin pair is reloaded like the public one.
            X509Bundle renewed = TestCertificates.server("admin renewed");
            TestCertificates.writePair(renewed, cert, key);
            SSLContext trustingBoth = TestCertificates.trusting(operator, server, renewed);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                    .until(() -> TestCertificates.served(trustingBoth, port).equals(renewed.getCertificate()));
            assertThat(get(trustingBoth, port, "/metrics").body())
                    .contains("portcullis_tls_reloads_total{listener=\"admin\",result=\"ok\"} 1.0");
        }
    }

    @Test
    void withoutAClientCaTheAdminListenerIsPlainHttps() throws Exception {
        X509Bundle server = TestCertificates.server("admin");
        Path cert = dir.resolve("admin.crt");
        Path key = dir.resolve("admin.key");
        TestCertificates.writePair(server, cert, key);
        try (TestGateway gateway = TestGateway.start(Map.of("admin.tls.cert", cert.toString(), "admin.tls.key", key.toString()))) {
            int port = gateway.gateway().adminPort();
            HttpResponse<String> metrics = get(TestCertificates.trusting(null, server), port, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("portcullis_tls_certificate_expiry_seconds{listener=\"admin\"} "
                    + (double) server.getCertificate().getNotAfter().toInstant().getEpochSecond());
        }
    }

    private static URI uri(int port, String path) {
        return URI.create("https://127.0.0.1:" + port + path);
    }

    private static HttpResponse<String> get(SSLContext tls, int port, String path) throws IOException, InterruptedException {
        return send(tls, HttpRequest.newBuilder(uri(port, path)).GET().build());
    }

    private static HttpResponse<String> send(SSLContext tls, HttpRequest request) throws IOException, InterruptedException {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        if (tls != null) {
            builder.sslContext(tls);
        }
        try (HttpClient http = builder.build()) {
            return http.send(HttpRequest.newBuilder(request, (name, value) -> true).timeout(TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }
}
