package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import dev.portcullis.gateway.config.TlsConfig;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** Acceptance 12: wss with a test certificate, and TLS 1.2/1.3 only. */
class TlsIT {

    @Test
    void aClientConnectsOverTls() throws Exception {
        X509Bundle cert = TestCertificates.server("localhost");
        try (TestGateway gateway = TestGateway.start(Map.of(
                "server.tls.cert", cert.toTempCertChainPem().getPath(),
                "server.tls.key", cert.toTempPrivateKeyPem().getPath()))) {
            SSLContext trusting = SSLContext.getInstance("TLS");
            trusting.init(null, cert.toTrustManagerFactory().getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(trusting).build();
            URI uri = URI.create("wss://localhost:" + gateway.gateway().port() + "/ws?token=" + Tokens.hs256("tls-user"));
            WsClient.Attempt attempt = WsClient.attempt(https, uri, Map.of(), List.of());
            assertThat(attempt.upgraded()).isTrue();
            try (WsClient client = attempt.client()) {
                assertThat(client.awaitMessage("connected").path("user").asText()).isEqualTo("tls-user");
                gateway.publish("user:tls-user", "{\"over\":\"tls\"}"); // the pre-encoded frame goes through TLS
                assertThat(client.awaitMessage("message").path("data").path("over").asText()).isEqualTo("tls");
            }

            for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
                try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", gateway.gateway().port())) {
                    socket.setEnabledProtocols(new String[] {protocol});
                    socket.startHandshake();
                    assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
                }
            }
        }
    }

    @Test
    void theServerContextOffersOnlyTls12And13() throws Exception {
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").setIsCertificateAuthority(true).buildSelfSigned();
        TlsConfig tls = new TlsConfig(cert.toTempCertChainPem().toPath(), cert.toTempPrivateKeyPem().toPath());
        SSLEngine engine = TlsContexts.server("server", TlsMaterial.read("server", tls)).newEngine(ByteBufAllocator.DEFAULT);
        // OpenSSL engines also list "SSLv2Hello": a ClientHello format, not a protocol version.
        assertThat(engine.getEnabledProtocols()).filteredOn(p -> !p.equals("SSLv2Hello")).containsOnly("TLSv1.2", "TLSv1.3");
    }
}
