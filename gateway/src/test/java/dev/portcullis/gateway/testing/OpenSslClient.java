package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code openssl} command line (Debian's OpenSSL 3) as an independent TLS client: what a listener
 * accepts is judged by a TLS stack that shares no code with Netty, BoringSSL or the JDK. Every
 * handshake runs with {@code @SECLEVEL=0}, so the client itself offers legacy protocols and suites
 * and a refusal can only come from the server.
 */
public final class OpenSslClient {
    private static final long TIMEOUT_SECONDS = 20;

    private OpenSslClient() {}

    /** How one {@code s_client} run ended: its exit status and everything it printed. */
    public record Handshake(int exit, String output) {
        public boolean succeeded() {
            return exit == 0 && output.contains("Cipher is ") && !output.contains("Cipher is (NONE)");
        }

        /** The negotiated suite in OpenSSL's naming, from "Cipher is X". */
        public String cipher() {
            int at = output.indexOf("Cipher is ");
            return at < 0 ? "" : output.substring(at + "Cipher is ".length()).lines().findFirst().orElse("").strip();
        }
    }

    /** Every TLS 1.2 suite this OpenSSL can offer, in its naming (about 90). */
    public static List<String> allTls12Ciphers() {
        String list = run("openssl", "ciphers", "-tls1_2", "-s", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").output().strip();
        return Arrays.asList(list.split(":"));
    }

    /** A TLS 1.2 (or older, with {@code protocol} -tls1 / -tls1_1) handshake offering only {@code cipherList}. */
    public static Handshake tls12(int port, String protocol, String cipherList) {
        return run("openssl", "s_client", "-connect", "127.0.0.1:" + port, protocol, "-cipher", cipherList + ":@SECLEVEL=0",
                "-servername", "localhost", "-no_ticket");
    }

    /** A TLS 1.3 handshake offering only {@code suites}. */
    public static Handshake tls13(int port, String suites) {
        return run("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-ciphersuites", suites, "-servername", "localhost");
    }

    private static Handshake run(String... command) {
        // coreutils' timeout bounds a server that never answers: s_client itself would wait for ever.
        List<String> argv = new ArrayList<>(List.of("timeout", Long.toString(TIMEOUT_SECONDS)));
        argv.addAll(List.of(command));
        try {
            Process process = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT_SECONDS + 5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", argv) + " did not finish");
            }
            return new Handshake(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run openssl (Debian package openssl): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
