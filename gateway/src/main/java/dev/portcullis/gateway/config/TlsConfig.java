package dev.portcullis.gateway.config;

import java.nio.file.Path;

/**
 * TLS for the public listener: a PEM certificate chain and a PEM private key (PKCS#8). Both or
 * neither are set; the loader refuses one without the other.
 */
public record TlsConfig(Path cert, Path key) {
    public static final TlsConfig DISABLED = new TlsConfig(null, null);

    public boolean enabled() {
        return cert != null && key != null;
    }
}
