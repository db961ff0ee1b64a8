package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.metrics.CompressionMetrics;
import dev.portcullis.gateway.testing.Deflate;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Inbound permessage-deflate: the event loop's inflater, the size cap, the reserved bits. */
class InflateHandlerTest {
    private static final int MAX = 10240;
    private final CompressionMetrics metrics = CompressionMetrics.detached();

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new InflateHandler.ReservedBits(), new WebSocketFrameAggregator(MAX), new InflateHandler(MAX, metrics));
    }

    private static TextWebSocketFrame compressed(byte[] message) {
        return new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(Deflate.compress(message)));
    }

    @Test
    void aCompressedMessageArrivesInflatedAndMessagesAreIndependent() {
        EmbeddedChannel channel = channel();
        for (String text : new String[] {"{\"type\":\"ping\",\"id\":\"a\"}", "{\"type\":\"ping\",\"id\":\"b\"}"}) {
            channel.writeInbound(compressed(text.getBytes(StandardCharsets.UTF_8)));
            TextWebSocketFrame frame = channel.readInbound();
            assertThat(frame.rsv()).isZero();
            assertThat(frame.text()).isEqualTo(text);
            frame.release();
        }
        channel.writeInbound(new TextWebSocketFrame("plain"));
        TextWebSocketFrame plain = channel.readInbound();
        assertThat(plain.text()).isEqualTo("plain");
        plain.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aFragmentedCompressedMessageIsInflatedWhole() {
        byte[] message = ("{\"type\":\"publish\",\"data\":\"" + "abc".repeat(500) + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] payload = Deflate.compress(message);
        int half = payload.length / 2;
        EmbeddedChannel channel = channel();
        channel.writeInbound(new TextWebSocketFrame(false, 4, Unpooled.wrappedBuffer(Arrays.copyOfRange(payload, 0, half))));
        channel.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(Arrays.copyOfRange(payload, half, payload.length))));
        TextWebSocketFrame frame = channel.readInbound();
        assertThat(frame.content().toString(StandardCharsets.UTF_8)).isEqualTo(new String(message, StandardCharsets.UTF_8));
        frame.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void aBombStopsAtTheCapWith1009() {
        byte[] bomb = Deflate.compress(new byte[8 << 20]); // 8 MiB of zeros
        assertThat(bomb.length).isLessThan(MAX); // a frame the size cap on the wire lets through
        EmbeddedChannel channel = channel();
        assertThatThrownBy(() -> channel.writeInbound(new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(bomb))))
                .isInstanceOfSatisfying(CorruptedWebSocketFrameException.class, e -> assertThat(e.closeStatus().code()).isEqualTo(1009));
        assertThat(metrics.inflatedBytes()).isEqualTo(MAX + 1); // inflating stopped one byte past the cap
        // Whatever the client sends next is dropped, not inflated.
        channel.writeInbound(compressed("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8)));
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(metrics.inflatedBytes()).isEqualTo(MAX + 1);
    }

    @Test
    void aMessageOfExactlyTheCapIsAccepted() {
        byte[] message = new byte[MAX];
        Arrays.fill(message, (byte) 'a');
        EmbeddedChannel channel = channel();
        channel.writeInbound(compressed(message));
        TextWebSocketFrame frame = channel.readInbound();
        assertThat(frame.content().readableBytes()).isEqualTo(MAX);
        frame.release();
    }

    @Test
    void corruptDataIsAProtocolError() {
        EmbeddedChannel channel = channel();
        assertThatThrownBy(() -> channel.writeInbound(new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, 1, 2, 3}))))
                .isInstanceOfSatisfying(CorruptedWebSocketFrameException.class, e -> assertThat(e.closeStatus().code()).isEqualTo(1002));
    }

    @Test
    void rsv1OnAControlFrameOrAContinuationAndRsv2AreProtocolErrors() {
        WebSocketFrame[] bad = {
            new PingWebSocketFrame(true, 4, Unpooled.EMPTY_BUFFER),
            new TextWebSocketFrame(true, 2, Unpooled.wrappedBuffer(new byte[] {'a'})), // RSV2
        };
        for (WebSocketFrame frame : bad) {
            EmbeddedChannel channel = channel();
            assertThatThrownBy(() -> channel.writeInbound(frame))
                    .isInstanceOfSatisfying(CorruptedWebSocketFrameException.class, e -> assertThat(e.closeStatus().code()).isEqualTo(1002));
        }
        EmbeddedChannel channel = channel();
        channel.writeInbound(new TextWebSocketFrame(false, 4, Unpooled.wrappedBuffer(Deflate.compress(new byte[] {'a'}))));
        assertThatThrownBy(() -> channel.writeInbound(new ContinuationWebSocketFrame(true, 4, Unpooled.EMPTY_BUFFER)))
                .isInstanceOf(CorruptedWebSocketFrameException.class);
        assertThatThrownBy(channel::finishAndReleaseAll).isInstanceOf(PrematureChannelClosureException.class); // and frees the first fragment
    }
}
