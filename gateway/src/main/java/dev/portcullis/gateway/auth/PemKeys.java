package dev.portcullis.gateway.auth;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code auth.public-key}: PEM text, or else the path of a PEM file. Accepts an SPKI
 * {@code PUBLIC KEY} (RSA, EC, Ed25519), a PKCS#1 {@code RSA PUBLIC KEY} or an X.509
 * {@code CERTIFICATE}. Errors are {@link IllegalArgumentException}s naming the key.
 */
final class PemKeys {

    private static final String KEY = "auth.public-key";
    private static final int MAX_FILE_BYTES = 1 << 20;
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** AlgorithmIdentifier of rsaEncryption, to wrap a PKCS#1 key as SPKI. */
    private static final byte[] RSA_ALGORITHM_ID = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    private PemKeys() {}

    static PublicKey read(String value) {
        String pem = value.strip().startsWith("-----BEGIN") ? value : readFile(value.strip());
        // Environment variables often carry PEM with literal "\n"; backslash is never in base64.
        Matcher block = BLOCK.matcher(pem.replace("\\n", "\n"));
        if (!block.find()) {
            throw new IllegalArgumentException(KEY + ": not a PEM public key");
        }
        String label = block.group(1);
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(block.group(2).strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(KEY + ": PEM body is not valid base64");
        }
        return switch (label) {
            case "PUBLIC KEY" -> spki(der);
            case "RSA PUBLIC KEY" -> spki(pkcs1ToSpki(der));
            case "CERTIFICATE" -> certificateKey(der);
            default -> throw new IllegalArgumentException(label.contains("PRIVATE")
                    ? KEY + ": holds a private key; give the public key only"
                    : KEY + ": unsupported PEM type " + label + ", expected PUBLIC KEY");
        };
    }

    private static String readFile(String path) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(Path.of(path))) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException(KEY + ": neither PEM text nor a readable PEM file ("
                    + e.getClass().getSimpleName() + ": " + path + ")");
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(KEY + ": file " + path + " is too large for a PEM key");
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static PublicKey spki(byte[] der) {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next key type
            }
        }
        throw new IllegalArgumentException(KEY + ": not an RSA, EC or Ed25519 public key");
    }

    private static PublicKey certificateKey(byte[] der) {
        try {
            return CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der))
                    .getPublicKey();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(KEY + ": not a valid X.509 certificate");
        }
    }

    /** SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING { 0 unused bits, key } }. */
    private static byte[] pkcs1ToSpki(byte[] pkcs1) {
        ByteArrayOutputStream bitString = new ByteArrayOutputStream();
        bitString.write(0x03);
        writeLength(bitString, pkcs1.length + 1);
        bitString.write(0x00);
        bitString.writeBytes(pkcs1);
        ByteArrayOutputStream spki = new ByteArrayOutputStream();
        spki.write(0x30);
        writeLength(spki, RSA_ALGORITHM_ID.length + bitString.size());
        spki.writeBytes(RSA_ALGORITHM_ID);
        spki.writeBytes(bitString.toByteArray());
        return spki.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length & 0xff);
        } else {
            out.write(0x83);
            out.write(length >> 16);
            out.write(length >> 8 & 0xff);
            out.write(length & 0xff);
        }
    }
}
