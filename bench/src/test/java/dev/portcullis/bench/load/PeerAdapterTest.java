package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The generator's protocol adapters ({@code --target}): one subscriber connection on an
 * {@link EmbeddedChannel}, fed the bytes each kind of server sends, checked for what it writes back
 * and what it counts. node-ws is the one that differs (token in the URL, no greeting, its own
 * subscribe answer, no offsets); the gateway's path is run alongside so that the two cannot blur.
 */
class PeerAdapterTest {
    private static final String SECRET = "adapter-test-secret-0123456789-abcdefghij";
    private static final String UPGRADED = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    private static WorkerPlan plan(Peer target) {
        return new WorkerPlan(0, "fanout", target, List.of("ws://127.0.0.1:1/ws"), List.of(), false, 1, 0, 1, 1, 5000, 5000, SECRET, null,
                0, 1, 1, "adapter-", 3600, Map.of(), "signature", "bench", false, "chat", 1, 0, 1, 100, false, 0, 0, 1, false, false);
    }

    /** A subscriber connection of a worker with {@code target}'s plan, active on an embedded channel. */
    private static final class Subscriber {
        final Worker worker;
        final WsConnection connection;
        final EmbeddedChannel channel;

        Subscriber(Peer target) {
            worker = new Worker(plan(target), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            Target url = Target.parse("ws://127.0.0.1:1/ws", "ws", "wss");
            connection = new WsConnection(worker, WsConnection.Role.SUBSCRIBE, 0, Dialer.request(target, url, new TokenSource(plan(target)).mint("adapter-0"), false));
            channel = new EmbeddedChannel(connection);
        }

        /** The next thing the client wrote, as text (the request), or the unmasked payload of its next frame. */
        String written(boolean frame) {
            ByteBuf out = channel.readOutbound();
            assertThat(out).as("something written").isNotNull();
            try {
                if (!frame) {
                    return out.toString(StandardCharsets.US_ASCII);
                }
                int length = out.getUnsignedByte(1) & 0x7f;
                assertThat(out.getUnsignedByte(1) & 0x80).as("client frames are masked").isNotZero();
                int mask = out.getInt(2);
                byte[] payload = new byte[length];
                for (int i = 0; i < length; i++) {
                    payload[i] = (byte) (out.getByte(6 + i) ^ (mask >>> (24 - 8 * (i & 3))));
                }
                return new String(payload, StandardCharsets.UTF_8);
            } finally {
                out.release();
            }
        }

        void receive(String text) {
            channel.writeInbound(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII)));
        }

        void receiveFrame(String json) {
            byte[] payload = json.getBytes(StandardCharsets.UTF_8);
            ByteBuf frame = Unpooled.buffer();
            frame.writeByte(0x81);
            if (payload.length < 126) {
                frame.writeByte(payload.length);
            } else {
                frame.writeByte(126).writeShort(payload.length);
            }
            channel.writeInbound(frame.writeBytes(payload));
        }
    }

    @Test
    void nodeWsGetsItsTokenInTheUrlTheSubscribeRightAfterTheUpgradeAndItsAnswerCounts() {
        Subscriber s = new Subscriber(Peer.NODE_WS);
        String request = s.written(false);
        assertThat(request).startsWith("GET /ws?token=ey").doesNotContain("Authorization");

        s.receive(UPGRADED);
        assertThat(s.written(true)).isEqualTo("{\"type\":\"subscribe\",\"channel\":\"bench\"}");
        assertThat(s.worker.counters().subscribed.sum()).isZero();

        s.receiveFrame("{\"type\":\"subscribed\",\"channel\":\"bench\"}");
        assertThat(s.worker.counters().subscribed.sum()).isEqualTo(1);
        assertThat(s.connection.subscribedAndOpen()).isTrue();
    }

    @Test
    void nodeWsPublicationsAreCountedByThePublishersSeqGapsAndAll() {
        Subscriber s = new Subscriber(Peer.NODE_WS);
        s.receive(UPGRADED);
        s.receiveFrame("{\"type\":\"subscribed\",\"channel\":\"bench\"}");
        for (int seq : new int[] {0, 1, 3}) {
            s.receiveFrame("{\"type\":\"message\",\"channel\":\"bench\",\"data\":{\"seq\":" + seq + ",\"ts\":" + Scan.wallMicros()
                    + ",\"pad\":\"xxxx\"}}");
        }
        s.receiveFrame("{\"type\":\"message\",\"channel\":\"bench\",\"data\":{\"seq\":1,\"ts\":1,\"pad\":\"\"}}");

        assertThat(s.worker.counters().deliveries.sum()).isEqualTo(3);
        assertThat(s.connection.lastOffset()).isEqualTo(3);
        assertThat(s.connection.missing(0, 4)).as("seq 2 and 4").isEqualTo(2);
        assertThat(s.connection.duplicates()).isEqualTo(1);
    }

    @Test
    void theGatewayGetsABearerHeaderAndTheSubscribeOnlyAfterItsGreeting() {
        Subscriber s = new Subscriber(Peer.PORTCULLIS);
        String request = s.written(false);
        assertThat(request).startsWith("GET /ws HTTP/1.1").contains("\r\nAuthorization: Bearer ey");

        s.receive(UPGRADED);
        assertThat((Object) s.channel.readOutbound()).as("nothing before connected").isNull();
        s.receiveFrame("{\"type\":\"connected\",\"connection\":\"c1\",\"user\":\"adapter-0\",\"expiresAt\":1}");
        assertThat(s.written(true)).isEqualTo("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"bench\"}");
        s.receiveFrame("{\"type\":\"subscribed\",\"channel\":\"bench\"}");
        assertThat(s.worker.counters().subscribed.sum()).as("a node-ws answer means nothing here").isZero();
        s.receiveFrame("{\"type\":\"ack\",\"id\":\"s\",\"channel\":\"bench\",\"offset\":0,\"epoch\":\"e\"}");
        assertThat(s.worker.counters().subscribed.sum()).isEqualTo(1);

        s.receiveFrame("{\"type\":\"message\",\"channel\":\"bench\",\"offset\":7,\"epoch\":\"e\",\"data\":{\"seq\":1,\"ts\":1,\"pad\":\"\"}}");
        assertThat(s.connection.lastOffset()).as("the gateway's offset, not a seq in the data").isEqualTo(7);
    }

    @Test
    void targetsParseByTheirNames() {
        assertThat(Peer.parse("node-ws")).isEqualTo(Peer.NODE_WS);
        assertThat(Peer.parse("Floor")).isEqualTo(Peer.FLOOR);
        assertThat(Peer.NODE_WS.requestTarget("/ws?x=1", "t")).isEqualTo("/ws?x=1&token=t");
        assertThat(Peer.FLOOR.requestTarget("/ws", "t")).isEqualTo("/ws");
        assertThatThrownBy(() -> Peer.parse("nginx")).hasMessageContaining("portcullis, node-ws or floor");
    }
}
