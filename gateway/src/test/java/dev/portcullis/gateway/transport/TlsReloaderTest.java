package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.config.TlsConfig;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.testing.TestCertificates;
import dev.portcullis.gateway.transport.TlsReloader.Result;
import io.netty.handler.ssl.SslContext;
import io.netty.pkitesting.CertificateBuilder.Algorithm;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What one check of the files does with each kind of change, and what it counts. */
class TlsReloaderTest {
    @TempDir
    Path dir;

    private final GatewayMetrics metrics = GatewayMetrics.create();
    private final X509Bundle first = TestCertificates.server("first");
    private Path cert;
    private Path key;
    private TlsConfig tls;

    @BeforeEach
    void writeFirstPair() {
        cert = dir.resolve("tls.crt");
        key = dir.resolve("tls.key");
        TestCertificates.writePair(first, cert, key);
        tls = new TlsConfig(cert, key);
    }

    @Test
    void aBrokenPairIsCountedOncePerContentAndTheOldContextStays() throws Exception {
        TlsReloader reloader = TlsReloader.load("server", tls, metrics.tls());
        SslContext served = reloader.get();
        assertThat(reloader.check("test")).isEqualTo(Result.UNCHANGED);

        String mismatched = TestCertificates.server("second").getPrivateKeyPEM();
        TestCertificates.write(key, mismatched);
        assertThat(reloader.check("test")).isEqualTo(Result.FAILED);
        assertThat(reloader.check("test")).as("the same broken files again").isEqualTo(Result.UNCHANGED);
        assertThat(failures()).isEqualTo(1);
        assertThat(reloader.get()).isSameAs(served);

        TestCertificates.write(key, first.getPrivateKeyPEM());
        assertThat(reloader.check("test")).as("back as served").isEqualTo(Result.UNCHANGED);
        TestCertificates.write(key, mismatched);
        assertThat(reloader.check("test")).as("broken again after a good state: news again").isEqualTo(Result.FAILED);
        assertThat(failures()).isEqualTo(2);

        Files.delete(cert);
        assertThat(reloader.check("test")).as("a file gone mid-rotation").isEqualTo(Result.FAILED);
        assertThat(reloader.get()).isSameAs(served);
        assertThat(failures()).isEqualTo(3);
        assertThat(count("ok")).isZero();
    }

    @Test
    void aValidNewPairIsServedCountedAndItsExpiryShown() {
        TlsReloader reloader = TlsReloader.load("server", tls, metrics.tls());
        SslContext before = reloader.get();
        assertThat(expiry()).isEqualTo(first.getCertificate().getNotAfter().toInstant().getEpochSecond());

        X509Bundle second = TestCertificates.server("second", Algorithm.rsa2048);
        TestCertificates.writePair(second, cert, key);
        assertThat(reloader.check("test")).isEqualTo(Result.RELOADED);
        assertThat(reloader.get()).isNotSameAs(before);
        assertThat(count("ok")).isEqualTo(1);
        assertThat(expiry()).isEqualTo(second.getCertificate().getNotAfter().toInstant().getEpochSecond());
        assertThat(reloader.check("test")).isEqualTo(Result.UNCHANGED);
    }

    @Test
    void startUpRefusesWhatAReloadWouldRefuseNamingTheKey() throws Exception {
        TestCertificates.write(key, TestCertificates.server("other").getPrivateKeyPEM());
        assertThatThrownBy(() -> TlsReloader.load("server", tls, metrics.tls()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.tls.key: does not belong to the certificate in server.tls.cert (CN=first)");

        TestCertificates.write(key, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TlsReloader.validate("admin", tls))
                .hasMessageContaining("admin.tls.key: holds a RSA PRIVATE KEY; give an unencrypted PKCS#8 PRIVATE KEY");

        TestCertificates.write(cert, "");
        assertThatThrownBy(() -> TlsReloader.validate("server", tls)).hasMessageContaining("server.tls.cert:");
    }

    private double failures() {
        return count("failure");
    }

    private double count(String result) {
        return metrics.registry().get("portcullis.tls.reloads").tag("listener", "server").tag("result", result).counter().count();
    }

    private double expiry() {
        return metrics.registry().get("portcullis.tls.certificate.expiry").tag("listener", "server").gauge().value();
    }
}
