package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code portcullis healthcheck}: the container image's HEALTHCHECK, without curl or a shell. */
class HealthcheckIT {
    @Test
    void zeroWhileReadyOneOnceDrainingOrGone() {
        String url;
        try (TestGateway gateway = TestGateway.start()) {
            url = "http://127.0.0.1:" + gateway.gateway().adminPort() + "/readyz";
            assertThat(run("--url", url)).isZero();
            assertThat(run("--url", "http://127.0.0.1:" + gateway.gateway().adminPort() + "/nope")).as("not 200").isEqualTo(1);
        }
        assertThat(run("--url", url, "--timeout", "1s")).as("nothing listens").isEqualTo(1);
        assertThat(run("--url", "not a url")).isEqualTo(1);
    }

    /** With admin.tls the check speaks HTTPS, trusting the configured certificate; with a client CA it presents --client-cert. */
    @Test
    void overMutualTlsWithTheConfiguredCertificateAndAClientCertificate(@TempDir Path dir) throws Exception {
        X509Bundle server = TestCertificates.serverNamedOnly("admin.example.internal"); // not 127.0.0.1: the name is not checked
        X509Bundle ca = TestCertificates.authority("probes");
        X509Bundle probe = TestCertificates.client("probe", ca);
        Path cert = dir.resolve("admin.crt");
        Path key = dir.resolve("admin.key");
        Path clientCa = dir.resolve("ca.crt");
        Path probeCert = dir.resolve("probe.crt");
        Path probeKey = dir.resolve("probe.key");
        TestCertificates.writePair(server, cert, key);
        TestCertificates.write(clientCa, ca.getCertificatePEM());
        TestCertificates.writePair(probe, probeCert, probeKey);
        try (TestGateway gateway = TestGateway.start(Map.of(
                "admin.tls.cert", cert.toString(), "admin.tls.key", key.toString(), "admin.tls.client-ca", clientCa.toString()))) {
            Path config = Files.writeString(dir.resolve("portcullis.yaml"), """
                    admin:
                      port: %d
                      tls: { cert: %s, key: %s, client-ca: %s }
                    auth:
                      hmac-secret: %s
                    """.formatted(gateway.gateway().adminPort(), cert, key, clientCa, Tokens.SECRET));
            assertThat(run("--config", config.toString(), "--client-cert", probeCert.toString(), "--client-key", probeKey.toString()))
                    .isZero();
            assertThat(run("--config", config.toString())).as("no client certificate").isEqualTo(1);
            assertThat(run("--config", config.toString(), "--client-cert", probeCert.toString())).as("cert without key").isEqualTo(1);
            // Trusting another certificate than the one served: refused.
            TestCertificates.writePair(TestCertificates.server("impostor"), dir.resolve("other.crt"), dir.resolve("other.key"));
            Path otherConfig = Files.writeString(dir.resolve("other.yaml"), Files.readString(config)
                    .replace(cert.toString(), dir.resolve("other.crt").toString()).replace(key.toString(), dir.resolve("other.key").toString()));
            assertThat(run("--config", otherConfig.toString(), "--client-cert", probeCert.toString(), "--client-key", probeKey.toString()))
                    .isEqualTo(1);
        }
    }

    private static int run(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "healthcheck";
        System.arraycopy(args, 0, all, 1, args.length);
        return new CommandLine(new Main()).execute(all);
    }
}
