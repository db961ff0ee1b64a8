package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.config.TlsConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/** Server TLS from PEM files: TLS 1.2 and 1.3 only; BoringSSL when it loads, the JDK otherwise. */
public final class TlsContexts {
    private TlsContexts() {}

    public static SslContext server(TlsConfig tls) {
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        try {
            return SslContextBuilder.forServer(tls.cert().toFile(), tls.key().toFile())
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "server.tls.cert/server.tls.key: cannot load the certificate or key: " + e.getMessage(), e);
        }
    }

    /** {@code OpenSSL (BoringSSL)} or {@code JDK}, for the start-up log. */
    public static String providerName() {
        return OpenSsl.isAvailable() ? "OpenSSL (" + OpenSsl.versionString() + ")" : "JDK";
    }
}
