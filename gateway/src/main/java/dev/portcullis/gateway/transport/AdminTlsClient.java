package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.config.TlsConfig;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The client side of the admin listener's TLS for {@code portcullis healthcheck}, which runs on the
 * gateway's own machine (a container HEALTHCHECK, a Kubernetes exec probe). It trusts exactly the
 * certificate in {@code admin.tls.cert} (so it needs no CA bundle, and a self-signed certificate
 * works) and skips the host name check, since it dials 127.0.0.1 while the certificate names the
 * service. With {@code admin.tls.client-ca} it presents the given client certificate.
 */
public final class AdminTlsClient {
    private AdminTlsClient() {}

    /**
     * @param clientCert PEM chain to present, or null (then {@code clientKey} is ignored)
     * @throws IllegalArgumentException naming the file that cannot be used
     */
    public static SSLContext context(TlsConfig admin, Path clientCert, Path clientKey) {
        List<X509Certificate> served = TlsMaterial.certificates("admin.tls.cert", admin.cert());
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            for (int i = 0; i < served.size(); i++) {
                trusted.setCertificateEntry("admin-" + i, served.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
            trust.init(trusted);
            X509TrustManager pkix = (X509TrustManager) trust.getTrustManagers()[0];
            KeyManagerFactory keys = null;
            if (clientCert != null) {
                TlsMaterial pair = TlsMaterial.pair("--client-cert", clientCert, "--client-key", clientKey);
                KeyStore own = KeyStore.getInstance("PKCS12");
                own.load(null, null);
                own.setKeyEntry("client", pair.key(), new char[0], pair.chain().toArray(X509Certificate[]::new));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(own, new char[0]);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), new TrustManager[] {new WithoutHostName(pkix)}, null);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot set up TLS for the admin listener: " + e, e);
        }
    }

    /** PKIX path validation against the served certificate, without endpoint identification. */
    private static final class WithoutHostName extends X509ExtendedTrustManager {
        private final X509TrustManager pkix;

        WithoutHostName(X509TrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client trust manager");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("a client trust manager");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("a client trust manager");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }
}
