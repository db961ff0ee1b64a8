package dev.portcullis.bench;

import dev.portcullis.gateway.auth.JwtVerifier;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of verifying one connect token through the gateway's real {@link JwtVerifier} (parse,
 * algorithm allow-list, signature, claim rules, {@link Principal}), once per handshake and once per
 * re-auth. HS256 with {@code auth.hmac-secret}; RS256 (RSA 2048), ES256 (P-256) and EdDSA (Ed25519)
 * with {@code auth.public-key}, for comparison. The token carries a small permissions claim, like a
 * real one. Average time per verification, one thread.
 *
 * <p>Run (from the repository root, JDK 21+ as {@code java}):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar TokenVerificationBenchmark -f 1 -wi 3 -w 2s -i 5 -r 3s
 * </pre>
 * One algorithm only: add {@code -p algorithm=HS256}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms1g", "-Xmx1g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class TokenVerificationBenchmark {
    private static final String SECRET = "benchmark-secret-benchmark-secret-0123456789";
    private static final Map<String, Object> PERMISSIONS = Map.of("channels", Map.of("chat:*", "rw", "alerts", "r"));

    @Param({"HS256", "RS256", "ES256", "EdDSA"})
    public String algorithm;

    private JwtVerifier verifier;
    private String token;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Instant now = Instant.now();
        Duration ttl = Duration.ofHours(24);
        switch (algorithm) {
            case "HS256" -> {
                verifier = verifier(Map.of("auth.hmac-secret", SECRET));
                token = TokenMinter.hs256(SECRET, "user-42", now, ttl, PERMISSIONS);
            }
            case "RS256" -> asymmetric(generate("RSA", 2048), "SHA256withRSA", now, ttl);
            case "ES256" -> asymmetric(generate("EC", 256), "SHA256withECDSAinP1363Format", now, ttl);
            case "EdDSA" -> asymmetric(generate("Ed25519", 0), "Ed25519", now, ttl);
            default -> throw new IllegalArgumentException("unknown algorithm " + algorithm);
        }
        Principal principal = verify();
        if (!principal.subject().equals("user-42")) {
            throw new IllegalStateException("verification returned " + principal);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        verifier.close();
    }

    @Benchmark
    public Principal verify() {
        return verifier.verify(token).join();
    }

    private void asymmetric(KeyPair keys, String jdkAlgorithm, Instant now, Duration ttl) throws GeneralSecurityException {
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keys.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        verifier = verifier(Map.of("auth.public-key", pem, "auth.algorithms", List.of(algorithm)));
        String header = "{\"alg\":\"" + algorithm + "\",\"typ\":\"JWT\"}";
        String claims = "{\"sub\":\"user-42\",\"iat\":" + now.getEpochSecond() + ",\"exp\":" + now.plus(ttl).getEpochSecond()
                + ",\"channels\":{\"chat:*\":\"rw\",\"alerts\":\"r\"}}";
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature signer = Signature.getInstance(jdkAlgorithm);
        signer.initSign(keys.getPrivate());
        signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        token = signingInput + "." + b64.encodeToString(signer.sign());
    }

    private static JwtVerifier verifier(Map<String, ?> overrides) {
        return JwtVerifier.create(ConfigLoader.load(overrides).auth(), Clock.systemUTC());
    }

    private static KeyPair generate(String kind, int size) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(kind);
        if (kind.equals("RSA")) {
            generator.initialize(size);
        } else if (kind.equals("EC")) {
            generator.initialize(new ECGenParameterSpec("secp256r1"));
        }
        return generator.generateKeyPair();
    }
}
