package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The load generator's small parts, without a network: the scanner, the frames, the option parsing. */
class LoadGeneratorTest {

    @Test
    void scannerReadsOffsetAndTimestampOfAPublicationAsTheGatewayWritesIt() {
        String text = "{\"type\":\"message\",\"channel\":\"bench\",\"offset\":4711,\"epoch\":\"9f2c41aa\","
                + "\"data\":{\"ts\":1795312800123456,\"pad\":\"xxxx\"}}";
        ByteBuf buf = Unpooled.wrappedBuffer(("??" + text).getBytes(StandardCharsets.US_ASCII));
        byte[] b = Scan.head(buf, 2, buf.writerIndex());
        int end = text.length();

        int type = Scan.after(b, 0, end, Scan.TYPE);
        assertThat((char) b[type]).isEqualTo('m');
        int channel = Scan.after(b, type, end, Scan.CHANNEL);
        assertThat(Scan.quotedEquals(b, channel, end, Scan.ascii("bench"))).isTrue();
        assertThat(Scan.quotedEquals(b, channel, end, Scan.ascii("ben"))).isFalse();
        assertThat(Scan.numberAfter(b, channel, end, Scan.OFFSET)).isEqualTo(4711);
        assertThat(Scan.numberAfter(b, channel, end, Scan.TS)).isEqualTo(1795312800123456L);
        assertThat(Scan.numberAfter(b, channel, end, Scan.RETRY_AFTER)).isEqualTo(Scan.NONE);
    }

    @Test
    void scannerReadsAnErrorCodeAndRetryAfter() {
        byte[] b = Scan.ascii("{\"type\":\"error\",\"id\":\"p\",\"code\":\"rate_limited\",\"message\":\"slow down\",\"retryAfterMs\":250}");
        assertThat(Scan.quoted(b, Scan.after(b, 0, b.length, Scan.CODE), b.length)).isEqualTo("rate_limited");
        assertThat(Scan.numberAfter(b, 0, b.length, Scan.RETRY_AFTER)).isEqualTo(250);
        assertThat(Scan.quotedEquals(b, Scan.after(b, 0, b.length, Scan.ID), b.length, Scan.ascii("p"))).isTrue();
    }

    @Test
    void wallClockIsMicrosecondsNearInstantNow() {
        long micros = Scan.wallMicros();
        long now = System.currentTimeMillis() * 1000;
        assertThat(micros).isBetween(now - 2_000_000, now + 2_000_000);
    }

    @Test
    void clientFramesAreMaskedAndUnmaskToThePayload() {
        byte[] payload = Scan.ascii("{\"type\":\"ping\"}");
        ByteBuf frame = Frames.text(ByteBufAllocator.DEFAULT, payload);
        try {
            assertThat((int) frame.getUnsignedByte(0)).isEqualTo(0x81); // FIN + text
            assertThat((int) frame.getUnsignedByte(1)).isEqualTo(0x80 | payload.length); // masked, length
            int mask = frame.getInt(2);
            byte[] unmasked = new byte[payload.length];
            for (int i = 0; i < payload.length; i++) {
                unmasked[i] = (byte) (frame.getByte(6 + i) ^ (mask >>> (24 - 8 * (i & 3))));
            }
            assertThat(unmasked).isEqualTo(payload);
        } finally {
            frame.release();
        }
        ByteBuf close = Frames.close(ByteBufAllocator.DEFAULT, 1000);
        try {
            int mask = close.getInt(2);
            int code = ((close.getByte(6) ^ (mask >>> 24)) & 0xff) << 8 | ((close.getByte(7) ^ (mask >>> 16)) & 0xff);
            assertThat(code).isEqualTo(1000);
        } finally {
            close.release();
        }
    }

    @Test
    void sourceAddressRangesExpand() {
        assertThat(Preflight.sourceRange("127.0.0.2-127.0.0.4")).containsExactly("127.0.0.2", "127.0.0.3", "127.0.0.4");
        assertThat(Preflight.sourceRange("127.0.0.8-9,127.0.1.1")).containsExactly("127.0.0.8", "127.0.0.9", "127.0.1.1");
        assertThatThrownBy(() -> Preflight.sourceRange("127.0.0.9-127.0.0.2")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Preflight.sourceRange("127.0.0.2-127.0.1.2")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void durationsReadLikeTheGatewayConfiguration() {
        assertThat(CommonOptions.duration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(CommonOptions.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(CommonOptions.duration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(CommonOptions.duration("2")).isEqualTo(Duration.ofSeconds(2));
        assertThat(CommonOptions.duration("0s")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> CommonOptions.duration("5x")).hasMessageContaining("not a duration");
    }

    @Test
    void targetsParseAndNameWhatIsWrong() {
        Target t = Target.parse("ws://127.0.0.1:8080/ws?recover=x", "ws", "wss");
        assertThat(t.tls()).isFalse();
        assertThat(t.address().getPort()).isEqualTo(8080);
        assertThat(t.pathAndQuery()).isEqualTo("/ws?recover=x");
        assertThat(t.hostHeader()).isEqualTo("127.0.0.1:8080");
        assertThat(t.loopback()).isTrue();
        assertThat(Target.parse("wss://localhost/ws", "ws", "wss").address().getPort()).isEqualTo(443);
        assertThatThrownBy(() -> Target.parse("http://127.0.0.1/ws", "ws", "wss")).hasMessageContaining("scheme must be ws:// or wss://");
        assertThatThrownBy(() -> Target.parse("ws:///ws", "ws", "wss")).hasMessageContaining("no host");
    }

    @Test
    void workerFailuresGetStableNames() {
        assertThat(Dialer.failureKind(new java.io.IOException("connect(..) failed: Connection refused"))).isEqualTo("refused");
        assertThat(Dialer.failureKind(new RuntimeException(new java.io.IOException("newSocketStream(..) failed: Too many open files"))))
                .isEqualTo("emfile");
        assertThat(Dialer.failureKind(new java.io.IOException("bind(..) failed: Cannot assign requested address"))).isEqualTo("no_ports");
        assertThat(Dialer.failureKind(new io.netty.channel.ConnectTimeoutException("slow"))).isEqualTo("connect_timeout");
    }
}
