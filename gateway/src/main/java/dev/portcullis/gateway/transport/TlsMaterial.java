package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.config.TlsConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One listener's PEM files, read once and checked as a whole: the certificate chain parses, the
 * private key parses and belongs to the first certificate (a test signature verifies), and the
 * client CA bundle, if any, parses. Reading the bytes once and building the TLS context from these
 * same bytes means a file that changes between the check and the use cannot slip through; the
 * {@link #fingerprint} of the bytes tells a reload whether anything changed at all.
 *
 * <p>Errors are {@link IllegalArgumentException}s naming the configuration key, so the same check
 * serves start-up (the message stops the gateway) and rotation (the message is logged and the old
 * certificate stays).
 */
record TlsMaterial(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> clientCas, String fingerprint) {
    /** Far more than any certificate chain or key; a larger file is a mistake, not something to read into memory. */
    private static final int MAX_FILE_BYTES = 1 << 20;
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519");

    TlsMaterial {
        chain = List.copyOf(chain);
        clientCas = List.copyOf(clientCas);
    }

    /**
     * @param listener {@code server} or {@code admin}: the prefix of the keys errors name
     * @throws IllegalArgumentException naming the key whose file is unreadable, malformed or mismatched
     */
    static TlsMaterial read(String listener, TlsConfig tls) {
        String prefix = listener + ".tls.";
        byte[] certBytes = bytes(prefix + "cert", tls.cert());
        byte[] keyBytes = bytes(prefix + "key", tls.key());
        byte[] caBytes = tls.clientCa() == null ? new byte[0] : bytes(prefix + "client-ca", tls.clientCa());
        List<X509Certificate> chain = certificates(prefix + "cert", certBytes);
        PrivateKey key = privateKey(prefix + "key", keyBytes);
        checkPair(prefix + "cert", chain.get(0), prefix + "key", key);
        List<X509Certificate> cas = tls.clientCa() == null ? List.of() : certificates(prefix + "client-ca", caBytes);
        return new TlsMaterial(chain, key, cas, fingerprint(certBytes, keyBytes, caBytes));
    }

    /** A certificate chain and its key named by other options than a listener's keys (a client's pair). */
    static TlsMaterial pair(String certName, Path cert, String keyName, Path key) {
        List<X509Certificate> chain = certificates(certName, bytes(certName, cert));
        PrivateKey privateKey = privateKey(keyName, bytes(keyName, key));
        checkPair(certName, chain.get(0), keyName, privateKey);
        return new TlsMaterial(chain, privateKey, List.of(), "");
    }

    /** The certificates in a PEM file; {@code name} is what errors call it. */
    static List<X509Certificate> certificates(String name, Path file) {
        return certificates(name, bytes(name, file));
    }

    /** The SHA-256 of the files' bytes as they are on disk now, without parsing them (a cheap "did anything change?"). */
    static String fingerprintOnDisk(String listener, TlsConfig tls) {
        String prefix = listener + ".tls.";
        return fingerprint(bytes(prefix + "cert", tls.cert()), bytes(prefix + "key", tls.key()),
                tls.clientCa() == null ? new byte[0] : bytes(prefix + "client-ca", tls.clientCa()));
    }

    X509Certificate leaf() {
        return chain.get(0);
    }

    /** The leaf certificate's SHA-256, as {@code openssl x509 -fingerprint -sha256} prints it (without colons), for logs. */
    String leafFingerprint() {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf().getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String key, Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(key + ": " + path + " is " + size + " bytes, more than a PEM file of certificates or keys has");
            }
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new IllegalArgumentException(key + ": cannot read " + path + ": " + e, e);
        }
    }

    private static List<X509Certificate> certificates(String key, byte[] pem) {
        try (InputStream in = new ByteArrayInputStream(pem)) {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast)
                    .toList();
            if (certs.isEmpty()) {
                throw new IllegalArgumentException(key + ": holds no PEM certificate");
            }
            return certs;
        } catch (CertificateException | IOException e) {
            throw new IllegalArgumentException(key + ": not a PEM certificate (chain): " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(String key, byte[] pem) {
        Matcher block = PEM.matcher(new String(pem, StandardCharsets.US_ASCII));
        if (!block.find()) {
            throw new IllegalArgumentException(key + ": holds no complete PEM block");
        }
        if (!block.group(1).equals("PRIVATE KEY")) {
            throw new IllegalArgumentException(key + ": holds a " + block.group(1)
                    + "; give an unencrypted PKCS#8 PRIVATE KEY (openssl pkcs8 -topk8 -nocrypt -in old.pem -out key.pem)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(block.group(2).strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": the PEM body is not valid base64");
        }
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // not this algorithm; try the next
            }
        }
        throw new IllegalArgumentException(key + ": not an RSA, EC or EdDSA private key in PKCS#8");
    }

    /** A signature made with the key must verify with the certificate's public key: else every handshake would fail. */
    private static void checkPair(String certName, X509Certificate leaf, String keyName, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519";
        };
        byte[] probe = "portcullis key check".getBytes(StandardCharsets.US_ASCII);
        boolean matches;
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false; // e.g. an EC key against an RSA certificate
        }
        if (!matches) {
            throw new IllegalArgumentException(keyName + ": does not belong to the certificate in " + certName + " ("
                    + leaf.getSubjectX500Principal().getName() + ")");
        }
    }

    private static String fingerprint(byte[]... files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (byte[] file : files) {
                sha.update(java.nio.ByteBuffer.allocate(Integer.BYTES).putInt(file.length).array());
                sha.update(file);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
