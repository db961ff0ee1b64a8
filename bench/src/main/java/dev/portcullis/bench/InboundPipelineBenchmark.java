package dev.portcullis.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.protocol.NamespacePolicies;
import dev.portcullis.gateway.protocol.PublicationData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * CPU cost of one inbound client message on its event loop, through the real protocol classes:
 * <ul>
 *   <li>{@code decodePing}: {@link MessageCodec#decode} of {@code {"type":"ping","id":"1"}} (parse +
 *       envelope schema).
 *   <li>{@code decodePublish}: the same for a chat {@code publish}.
 *   <li>{@code prepare}: {@link PublicationData#prepare} of the already decoded {@code data}:
 *       {@code text} sanitising, then the namespace schema {@code examples/chat.schema.json}
 *       ({@code channels.schemas: chat=...}), then writing the JSON text that is fanned out.
 *   <li>{@code decodeAndPrepare}: both, i.e. what a publish costs before the broker.
 * </ul>
 * {@code content} is {@code clean} (plain text: the sanitiser's fast path) or {@code html} (tags,
 * a link and a script element in {@code content}: the OWASP sanitiser runs). Average time per
 * message, one thread; rate limit and permission checks are not included (they are map look-ups).
 *
 * <p>Run (from the repository root, JDK 21+ as {@code java}):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar InboundPipelineBenchmark -f 1 -wi 3 -w 2s -i 5 -r 3s
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms1g", "-Xmx1g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class InboundPipelineBenchmark {
    static final String PING = "{\"type\":\"ping\",\"id\":\"1\"}";
    static final String ROOM = "6f1c2b1e-8a4d-4c53-9a55-3f0e2d7b9c10";
    static final String CLEAN_CONTENT = "Deploy finished, dashboards look green. Standup moved to 10:30, see you there!";
    static final String HTML_CONTENT = "Deploy <b>finished</b>, <a href=\\\"https://dash.example.com\\\">dashboards</a>"
            + " look <i>green</i>.<script>alert(1)</script> Standup moved to 10:30 &amp; see you there!";

    /** The codec and data policies, as the gateway builds them once at start. */
    @State(Scope.Benchmark)
    public static class Gateway {
        final MessageCodec codec = new MessageCodec();
        PublicationData data;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            Path schema = Files.createTempFile("chat.schema", ".json");
            schema.toFile().deleteOnExit();
            try (InputStream in = InboundPipelineBenchmark.class.getClassLoader().getResourceAsStream("bench/chat.schema.json")) {
                if (in == null) {
                    throw new IllegalStateException("bench/chat.schema.json is missing from the jar");
                }
                Files.copy(in, schema, StandardCopyOption.REPLACE_EXISTING);
            }
            data = NamespacePolicies.create(ConfigLoader.load(Map.of(
                    "auth.hmac-secret", "unused-by-this-benchmark-but-required-0123456789",
                    "channels.schemas", List.of("chat=" + schema),
                    "channels.sanitize-default", "text")).channels());
        }
    }

    /** One chat publish, with clean or HTML content. */
    @State(Scope.Benchmark)
    public static class Publish {
        @Param({"clean", "html"})
        public String content;

        String text;
        JsonNode decodedData;

        @Setup(Level.Trial)
        public void setUp(Gateway gateway) {
            String body = content.equals("html") ? HTML_CONTENT : CLEAN_CONTENT;
            text = "{\"type\":\"publish\",\"id\":\"42\",\"channel\":\"chat:room-7\",\"data\":"
                    + "{\"type\":\"chat\",\"roomId\":\"" + ROOM + "\",\"content\":\"" + body + "\"}}";
            ClientMessage message = gateway.codec.decode(text);
            if (!(message instanceof ClientMessage.Publish publish)) {
                throw new IllegalStateException("decoded " + message);
            }
            decodedData = publish.data();
            String prepared = gateway.data.prepare("chat:standup", "chat", decodedData);
            boolean sanitised = !prepared.contains("<");
            if (!sanitised || prepared.contains("alert") || !prepared.contains("Standup")) {
                throw new IllegalStateException("unexpected prepared data " + prepared);
            }
        }
    }

    @Benchmark
    public ClientMessage decodePing(Gateway gateway) {
        return gateway.codec.decode(PING);
    }

    @Benchmark
    public ClientMessage decodePublish(Gateway gateway, Publish publish) {
        return gateway.codec.decode(publish.text);
    }

    @Benchmark
    public String prepare(Gateway gateway, Publish publish) {
        return gateway.data.prepare("chat:standup", "chat", publish.decodedData);
    }

    @Benchmark
    public String decodeAndPrepare(Gateway gateway, Publish publish) {
        ClientMessage.Publish message = (ClientMessage.Publish) gateway.codec.decode(publish.text);
        return gateway.data.prepare("chat:standup", "chat", message.data());
    }
}
