package dev.portcullis.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.client.ChannelKeys;
import dev.portcullis.client.EnvelopeCipher;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * What end-to-end encryption (issue 11) costs the Java client per message, on its client thread:
 * {@link #seal} is a publish to an encrypted channel (the data's JSON text, a fresh IV from
 * {@code SecureRandom}, AES-256-GCM with the channel as AAD, base64url, the envelope node), and
 * {@link #open} is a received publication (envelope checks, key lookup, base64url, GCM with tag
 * check, strict UTF-8 and JSON parse of the plaintext). {@link #plainWrite} and {@link #plainRead}
 * are what the same data costs without encryption (JSON text out, JSON tree in), so the difference
 * is the encryption's own share. Payloads are chat-like JSON objects whose JSON text is exactly
 * {@code payloadBytes} long (100 bytes and 5 KiB). Average time per message, one thread.
 *
 * <p>Run (from the repository root, JDK 21+ as {@code java}):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar EnvelopeBenchmark -f 1 -wi 3 -w 2s -i 5 -r 3s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms1g", "-Xmx1g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class EnvelopeBenchmark {
    private static final String CHANNEL = "secret:room-42";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Param({"100", "5120"})
    public int payloadBytes;

    private EnvelopeCipher cipher;
    private JsonNode data;
    private String dataText;
    private ObjectNode envelope;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] keyBytes = new byte[32];
        new java.security.SecureRandom().nextBytes(keyBytes);
        SecretKey key = new SecretKeySpec(keyBytes, "AES");
        cipher = new EnvelopeCipher(new ChannelKeys() {
            @Override
            public String currentKid(String channel) {
                return "2026-12-room-42";
            }

            @Override
            public SecretKey key(String channel, String kid) {
                return kid.equals("2026-12-room-42") ? key : null;
            }
        });
        data = payload(payloadBytes);
        dataText = JSON.writeValueAsString(data);
        if (dataText.length() != payloadBytes) {
            throw new IllegalStateException("payload is " + dataText.length() + " bytes, not " + payloadBytes);
        }
        envelope = cipher.seal(CHANNEL, data);
        if (!open().equals(data)) {
            throw new IllegalStateException("the envelope does not open to the payload");
        }
    }

    @Benchmark
    public ObjectNode seal() {
        return cipher.seal(CHANNEL, data);
    }

    @Benchmark
    public JsonNode open() {
        return cipher.open(CHANNEL, envelope);
    }

    @Benchmark
    public byte[] plainWrite() throws Exception {
        return JSON.writeValueAsBytes(data);
    }

    @Benchmark
    public JsonNode plainRead() throws Exception {
        return JSON.readTree(dataText);
    }

    /** {@code {"user":"alice","sentAt":1765000000000,"text":"lorem ipsum ..."}}, exactly {@code bytes} of JSON. */
    static JsonNode payload(int bytes) {
        String prefix = "{\"user\":\"alice\",\"sentAt\":1765000000000,\"text\":\"";
        String words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
        StringBuilder text = new StringBuilder();
        int length = bytes - prefix.length() - 2;
        while (text.length() < length) {
            text.append(words);
        }
        text.setLength(length);
        ObjectNode node = JSON.createObjectNode();
        node.put("user", "alice").put("sentAt", 1765000000000L).put("text", text.toString());
        return node;
    }
}
