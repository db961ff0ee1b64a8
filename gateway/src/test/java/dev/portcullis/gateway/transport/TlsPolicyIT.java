package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.config.TlsConfig;
import dev.portcullis.gateway.testing.OpenSslClient;
import dev.portcullis.gateway.testing.OpenSslClient.Handshake;
import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.testing.TestGateway;
import io.netty.pkitesting.CertificateBuilder.Algorithm;
import io.netty.pkitesting.X509Bundle;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The TLS policy as an outside audit sees it: OpenSSL's own client tries every TLS 1.2 suite it
 * knows, one at a time, and TLS 1.0, 1.1 and 1.3, against a running gateway. What must be accepted
 * is Mozilla's "intermediate" set without DHE (ECDHE with AES-GCM or ChaCha20-Poly1305) for the
 * certificate's key type, and nothing else; the server's order decides.
 */
class TlsPolicyIT {

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ecp256", "rsa2048"})
    void theGatewayAcceptsOnlyEcdheAeadSuitesAndTls12Or13(Algorithm algorithm) throws Exception {
        X509Bundle cert = TestCertificates.server("localhost", algorithm);
        try (TestGateway gateway = TestGateway.start(Map.of(
                "server.tls.cert", cert.toTempCertChainPem().getPath(),
                "server.tls.key", cert.toTempPrivateKeyPem().getPath()))) {
            assertPolicy(gateway.gateway().port(), algorithm);
        }
    }

    /** The JDK provider, used where netty-tcnative does not load, is held to the same policy. */
    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ecp256", "rsa2048"})
    void theJdkFallbackAcceptsTheSame(Algorithm algorithm) throws Exception {
        X509Bundle cert = TestCertificates.server("localhost", algorithm);
        TlsMaterial material = TlsMaterial.read("server",
                new TlsConfig(cert.toTempCertChainPem().toPath(), cert.toTempPrivateKeyPem().toPath()));
        SslContext jdk = TlsContexts.server("server", material, SslProvider.JDK);
        try (EventLoops loops = new EventLoops(1, EventLoops.Transport.AUTO)) {
            Channel server = new ServerBootstrap()
                    .group(loops.acceptors(), loops.workers())
                    .channel(loops.serverChannelClass())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast(jdk.newHandler(channel.alloc()));
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            try {
                assertPolicy(((InetSocketAddress) server.localAddress()).getPort(), algorithm);
            } finally {
                server.close().sync();
            }
        }
    }

    private static void assertPolicy(int port, Algorithm algorithm) {
        String auth = algorithm == Algorithm.ecp256 ? "ECDSA" : "RSA";
        List<String> accepted = new ArrayList<>();
        List<String> offered = OpenSslClient.allTls12Ciphers();
        for (String cipher : offered) {
            Handshake handshake = OpenSslClient.tls12(port, "-tls1_2", cipher);
            if (handshake.succeeded()) {
                assertThat(handshake.cipher()).isEqualTo(cipher);
                accepted.add(cipher);
            }
        }
        assertThat(offered).as("OpenSSL offers the legacy suites, so their refusal means something")
                .contains("AES128-SHA", "ECDHE-" + auth + "-AES128-SHA", "DHE-RSA-AES128-GCM-SHA256", "AES128-GCM-SHA256");
        assertThat(accepted).containsExactlyInAnyOrder(
                "ECDHE-" + auth + "-AES128-GCM-SHA256", "ECDHE-" + auth + "-AES256-GCM-SHA384", "ECDHE-" + auth + "-CHACHA20-POLY1305");

        // The server's order wins: offered ChaCha20 first, AES-128-GCM is chosen.
        Handshake ordered = OpenSslClient.tls12(port, "-tls1_2",
                "ECDHE-" + auth + "-CHACHA20-POLY1305:ECDHE-" + auth + "-AES256-GCM-SHA384:ECDHE-" + auth + "-AES128-GCM-SHA256");
        assertThat(ordered.cipher()).isEqualTo("ECDHE-" + auth + "-AES128-GCM-SHA256");

        for (String legacy : List.of("-tls1", "-tls1_1")) {
            Handshake refused = OpenSslClient.tls12(port, legacy, "ALL");
            assertThat(refused.succeeded()).as(legacy + ": " + refused.output()).isFalse();
            assertThat(refused.output()).as("the server refused the %s hello", legacy).contains("alert protocol version");
        }

        List<String> tls13 = new ArrayList<>();
        for (String suite : List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")) {
            Handshake handshake = OpenSslClient.tls13(port, suite);
            if (handshake.succeeded()) {
                assertThat(handshake.output()).contains("TLSv1.3");
                tls13.add(suite);
            }
        }
        assertThat(tls13).containsExactlyInAnyOrder("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
    }
}
