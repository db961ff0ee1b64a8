package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.config.TlsConfig;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.testing.TestCertificates;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The periodic check alone (no directory watch, as on platforms without one) still picks up a rotation. */
class CertificateWatcherTest {
    @TempDir
    Path dir;

    @Test
    void withoutAWatchThePollFindsTheNewPair() {
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        TestCertificates.writePair(TestCertificates.server("first"), cert, key);
        GatewayMetrics metrics = GatewayMetrics.create();
        TlsReloader reloader = TlsReloader.load("server", new TlsConfig(cert, key), metrics.tls());
        SslContext first = reloader.get();
        try (CertificateWatcher watcher = new CertificateWatcher(List.of(reloader), Duration.ofMillis(200), false)) {
            TestCertificates.writePair(TestCertificates.server("second"), cert, key);
            await().atMost(Duration.ofSeconds(10)).until(() -> reloader.get() != first);
        }
        assertThat(metrics.registry().get("portcullis.tls.reloads").tag("listener", "server").tag("result", "ok").counter().count())
                .isEqualTo(1);
    }
}
