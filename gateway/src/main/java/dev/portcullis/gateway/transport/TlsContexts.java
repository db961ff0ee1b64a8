package dev.portcullis.gateway.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Server TLS contexts with Mozilla's "intermediate" policy, minus finite-field DHE: TLS 1.3, and
 * TLS 1.2 with ECDHE key exchange and AEAD ciphers only (AES-GCM, ChaCha20-Poly1305), in the
 * server's order of preference. No CBC suite, no static RSA key exchange, no TLS 1.0/1.1: the
 * suites an outside audit (testssl.sh) flags, and which Netty's default list for BoringSSL still
 * offers. BoringSSL (netty-tcnative) when it loads, the JDK otherwise; both get the same list, in
 * IANA names, which Netty translates for OpenSSL.
 *
 * <p>The TLS 1.3 suites are listed for the JDK provider, which refuses TLS 1.3 without one; BoringSSL
 * does not let them be chosen and always offers these same three, all AEAD. Both providers choose by
 * the server's order by default (Netty sets {@code SSL_OP_CIPHER_SERVER_PREFERENCE}; the JDK's server
 * engines have {@code useCipherSuitesOrder} on); {@code TlsPolicyIT} checks it from the outside.
 */
public final class TlsContexts {
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** Fastest first: AES-128-GCM, AES-256-GCM, then ChaCha20 (the choice of clients without AES instructions). */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsContexts() {}

    static SslContext server(String listener, TlsMaterial material) {
        return server(listener, material, OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
    }

    /**
     * @param listener {@code server} or {@code admin}, for the error message
     * @throws IllegalArgumentException when the provider refuses the material
     */
    static SslContext server(String listener, TlsMaterial material, SslProvider provider) {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(material.key(), material.chain().toArray(X509Certificate[]::new))
                    .sslProvider(provider)
                    .protocols(PROTOCOLS)
                    .ciphers(CIPHERS);
            if (!material.clientCas().isEmpty()) {
                builder.trustManager(material.clientCas().toArray(X509Certificate[]::new)).clientAuth(ClientAuth.REQUIRE);
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException(listener + ".tls.cert/" + listener + ".tls.key: cannot use the certificate or key: "
                    + e.getMessage(), e);
        }
    }

    /** {@code OpenSSL (BoringSSL)} or {@code JDK}, for the start-up log. */
    public static String providerName() {
        return OpenSsl.isAvailable() ? "OpenSSL (" + OpenSsl.versionString() + ")" : "JDK";
    }
}
