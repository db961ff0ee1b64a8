package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.netty.pkitesting.CertificateBuilder.Algorithm;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate rotation on a running gateway, seen through real handshakes of the JDK's TLS client:
 * new handshakes get the new certificate, open WebSocket connections stay, and a broken pair keeps
 * the old certificate and is counted.
 */
class CertificateReloadIT {
    private static final String OK = "portcullis_tls_reloads_total{listener=\"server\",result=\"ok\"}";
    private static final String FAILURE = "portcullis_tls_reloads_total{listener=\"server\",result=\"failure\"}";
    private static final String EXPIRY = "portcullis_tls_certificate_expiry_seconds{listener=\"server\"}";
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    /** Laid out as Kubernetes mounts a secret: {@code tls.crt -> ..data/tls.crt}, {@code ..data -> ..v1}, swapped by a rename. */
    @Test
    void aRotatedSecretServesNewHandshakesWhileOpenConnectionsStay() throws Exception {
        X509Bundle first = TestCertificates.server("first");
        X509Bundle second = TestCertificates.server("second", Algorithm.rsa2048);
        publishSecret(first, "..v1");
        Files.createSymbolicLink(dir.resolve("tls.crt"), Path.of("..data/tls.crt"));
        Files.createSymbolicLink(dir.resolve("tls.key"), Path.of("..data/tls.key"));
        SSLContext client = TestCertificates.trusting(null, first, second);
        try (TestGateway gateway = TestGateway.start(Map.of(
                "server.tls.cert", dir.resolve("tls.crt").toString(), "server.tls.key", dir.resolve("tls.key").toString()))) {
            int port = gateway.gateway().port();
            assertThat(TestCertificates.served(client, port)).isEqualTo(first.getCertificate());
            assertThat(gateway.metric(EXPIRY)).isEqualTo(first.getCertificate().getNotAfter().toInstant().getEpochSecond());
            HttpClient https = HttpClient.newBuilder().sslContext(client).build();
            WsClient.Attempt attempt = WsClient.attempt(https, wss(port, "old-user"), Map.of(), List.of());
            assertThat(attempt.upgraded()).isTrue();
            try (WsClient old = attempt.client()) {
                old.awaitMessage("connected");

                publishSecret(second, "..v2");

                await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
                        .until(() -> TestCertificates.served(client, port).equals(second.getCertificate()));
                assertThat(gateway.metric(OK)).isEqualTo(1);
                assertThat(gateway.metric(FAILURE)).isZero();
                assertThat(gateway.metric(EXPIRY)).isEqualTo(second.getCertificate().getNotAfter().toInstant().getEpochSecond());

                // The connection made under the first certificate is still open and delivers.
                gateway.publish("user:old-user", "{\"after\":\"rotation\"}");
                assertThat(old.awaitMessage("message").path("data").path("after").asText()).isEqualTo("rotation");
                // And a new WebSocket connection handshakes with the new certificate.
                try (WsClient fresh = WsClient.attempt(https, wss(port, "new-user"), Map.of(), List.of()).client()) {
                    assertThat(fresh.awaitMessage("connected").path("user").asText()).isEqualTo("new-user");
                }
            }
        }
    }

    @Test
    void aBrokenPairKeepsTheOldCertificateAndIsCounted() throws Exception {
        X509Bundle first = TestCertificates.server("first");
        X509Bundle second = TestCertificates.server("second");
        X509Bundle third = TestCertificates.server("third");
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        TestCertificates.writePair(first, cert, key);
        SSLContext client = TestCertificates.trusting(null, first, second, third);
        try (TestGateway gateway = TestGateway.start(Map.of("server.tls.cert", cert.toString(), "server.tls.key", key.toString()))) {
            int port = gateway.gateway().port();

            // A key that does not belong to the certificate (the cert was renewed, the key not yet).
            TestCertificates.write(cert, second.getCertificatePathPEM());
            await().atMost(WAIT).until(() -> gateway.metric(FAILURE) == 1);
            assertThat(TestCertificates.served(client, port)).isEqualTo(first.getCertificate());

            // A half-written certificate file, written in place.
            String pem = third.getCertificatePathPEM();
            Files.writeString(cert, pem.substring(0, pem.length() / 2));
            await().atMost(WAIT).until(() -> gateway.metric(FAILURE) == 2);
            assertThat(TestCertificates.served(client, port)).isEqualTo(first.getCertificate());
            assertThat(gateway.metric(OK)).isZero();

            // The pair completed: taken.
            TestCertificates.writePair(third, cert, key);
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
                    .until(() -> TestCertificates.served(client, port).equals(third.getCertificate()));
            assertThat(gateway.metric(OK)).isEqualTo(1);
            assertThat(gateway.metric(FAILURE)).isEqualTo(2);
        }
    }

    /** SIGHUP has the files checked at once (and does not end the process, the JVM's default). */
    @Test
    void sighupChecksTheFilesInTheRunningProcess() throws Exception {
        X509Bundle cert = TestCertificates.server("sighup");
        Path certFile = dir.resolve("tls.crt");
        Path keyFile = dir.resolve("tls.key");
        TestCertificates.writePair(cert, certFile, keyFile);
        try (GatewayProcess gateway = GatewayProcess.start(dir, """
                server:
                  host: 127.0.0.1
                  port: 0
                  tls: { cert: %s, key: %s }
                admin:
                  port: 0
                auth:
                  hmac-secret: %s
                """.formatted(certFile, keyFile, Tokens.SECRET), "")) {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(gateway.process().pid())).inheritIO().start();
            assertThat(kill.waitFor()).isZero();
            gateway.awaitLine("TLS (SIGHUP): server certificate files unchanged", WAIT);
            assertThat(gateway.process().isAlive()).isTrue();
            assertThat(TestCertificates.served(TestCertificates.trusting(null, cert), gateway.port())).isEqualTo(cert.getCertificate());
        }
    }

    /** Writes a new {@code ..vN} directory and swaps {@code ..data} to it with one rename, as the kubelet does. */
    private void publishSecret(X509Bundle bundle, String version) throws IOException {
        Path target = Files.createDirectory(dir.resolve(version));
        Files.writeString(target.resolve("tls.crt"), bundle.getCertificatePathPEM());
        Files.writeString(target.resolve("tls.key"), bundle.getPrivateKeyPEM());
        Path link = dir.resolve("..data_tmp");
        Files.createSymbolicLink(link, Path.of(version));
        Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static URI wss(int port, String user) {
        return URI.create("wss://localhost:" + port + "/ws?token=" + Tokens.hs256(user));
    }
}
