package dev.portcullis.gateway.config;

import java.nio.file.Path;

/**
 * TLS for one listener: a PEM certificate chain and a PEM private key (PKCS#8), and for the admin
 * listener optionally a PEM bundle of CA certificates that client certificates must chain to
 * (mutual TLS). Cert and key are both set or neither; a client CA needs them. The loader refuses
 * anything else. The files are read again whenever they change on disk (certificate rotation), so
 * these are paths, not contents.
 *
 * @param clientCa CA certificates clients must present a certificate from, or null for no client
 *     authentication
 */
public record TlsConfig(Path cert, Path key, Path clientCa) {
    public static final TlsConfig DISABLED = new TlsConfig(null, null, null);

    public TlsConfig(Path cert, Path key) {
        this(cert, key, null);
    }

    public boolean enabled() {
        return cert != null && key != null;
    }

    public boolean clientAuth() {
        return enabled() && clientCa != null;
    }
}
