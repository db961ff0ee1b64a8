package dev.portcullis.gateway.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made in-process (Netty's pkitesting) for TLS tests, their PEM files, and what a real
 * JDK client sees of a listener. Files are written through a temporary file and a rename, as
 * cert-manager and ACME clients do, unless a test wants a torn write.
 */
public final class TestCertificates {
    private TestCertificates() {}

    /** A self-signed localhost/127.0.0.1 server certificate, valid for an hour ({@code ecp256} or {@code rsa2048}). */
    public static X509Bundle server(String commonName, CertificateBuilder.Algorithm algorithm) {
        try {
            return new CertificateBuilder()
                    .subject("CN=" + commonName)
                    .algorithm(algorithm)
                    .setIsCertificateAuthority(true)
                    .addSanDnsName("localhost")
                    .addSanIpAddress("127.0.0.1")
                    .notBefore(Instant.now().minusSeconds(60))
                    .notAfter(Instant.now().plusSeconds(3600))
                    .buildSelfSigned();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    public static X509Bundle server(String commonName) {
        return server(commonName, CertificateBuilder.Algorithm.ecp256);
    }

    /** A self-signed server certificate naming only {@code dnsName}: a client dialling 127.0.0.1 cannot match it. */
    public static X509Bundle serverNamedOnly(String dnsName) {
        try {
            return new CertificateBuilder().subject("CN=" + dnsName).setIsCertificateAuthority(true).addSanDnsName(dnsName)
                    .notBefore(Instant.now().minusSeconds(60)).notAfter(Instant.now().plusSeconds(3600)).buildSelfSigned();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A CA that can issue certificates (for client certificates of mutual TLS). */
    public static X509Bundle authority(String commonName) {
        try {
            return new CertificateBuilder().subject("CN=" + commonName).setIsCertificateAuthority(true)
                    .notBefore(Instant.now().minusSeconds(60)).notAfter(Instant.now().plusSeconds(3600)).buildSelfSigned();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A client certificate issued by {@code ca}. */
    public static X509Bundle client(String commonName, X509Bundle ca) {
        try {
            return new CertificateBuilder().subject("CN=" + commonName).addExtendedKeyUsageClientAuth()
                    .notBefore(Instant.now().minusSeconds(60)).notAfter(Instant.now().plusSeconds(3600)).buildIssuedBy(ca);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Writes {@code text} to {@code file} through a temporary sibling and an atomic rename. */
    public static void write(Path file, String text) {
        try {
            Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(temporary, text);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Writes the certificate chain and the private key of {@code bundle} as PEM files. */
    public static void writePair(X509Bundle bundle, Path cert, Path key) {
        write(cert, bundle.getCertificatePathPEM());
        write(key, bundle.getPrivateKeyPEM());
    }

    /** A client context trusting every one of {@code servers}, presenting {@code client} when not null. */
    public static SSLContext trusting(X509Bundle client, X509Bundle... servers) {
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            for (int i = 0; i < servers.length; i++) {
                trusted.setCertificateEntry("server-" + i, servers[i].getCertificate());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            KeyManager[] keys = client == null ? null : client.toKeyManagerFactory().getKeyManagers();
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The certificate a new TLS handshake with 127.0.0.1:{@code port} is served; the handshake must succeed. */
    public static X509Certificate served(SSLContext client, int port) {
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout((int) WsClient.WAIT.toMillis());
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        } catch (IOException e) {
            throw new AssertionError("TLS handshake with port " + port + " failed: " + e, e);
        }
    }
}
