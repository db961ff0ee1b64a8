package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.Deflate;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateClientExtensionHandshaker;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * permessage-deflate on the wire: negotiation, Netty's own client with its compression handler (an
 * independent zlib implementation of RFC 7692 on the other end), one compression per publication
 * however many subscribers get it, and a decompression bomb.
 */
class CompressionIT {
    private static final String OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";
    /** A 300-byte JSON alert. */
    private static final String ALERT = "{\"severity\":\"high\",\"title\":\"Disk usage above threshold on db-7\",\"host\":\"db-7.eu-west\","
            + "\"metric\":\"disk.used.percent\",\"value\":93.4,\"threshold\":90,\"since\":\"2026-12-07T20:41:03Z\","
            + "\"runbook\":\"https://runbooks.example.com/disk-usage\",\"tags\":[\"storage\",\"database\",\"production\"],\"ack\":false}";

    private static TestGateway gateway;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(Map.of("server.compression", "on", "channels.auto-subscribe", List.of("feed"),
                "channels.sanitize-default", "none", "limits.connections-per-user", "0"));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        gateway.close();
    }

    private static RawWebSocket raw(TestGateway on, String user, String... headers) throws Exception {
        RawWebSocket raw = RawWebSocket.open(on.gateway().port(), "/ws?token=" + Tokens.hs256(user), headers);
        assertThat(raw.status()).isEqualTo(101);
        assertThat(WsClient.json(raw.read().text()).path("type").asText()).isEqualTo("connected");
        return raw;
    }

    private static String extensions(RawWebSocket raw) {
        return raw.head().lines().filter(l -> l.toLowerCase().startsWith("sec-websocket-extensions:"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(null);
    }

    private static double metric(String series) {
        return gateway.metric(series);
    }

    @Test
    void negotiatedOnlyWhenOfferedAndHonourable() throws Exception {
        try (RawWebSocket offered = raw(gateway, "n1", OFFER);
                RawWebSocket none = raw(gateway, "n2");
                RawWebSocket declined = raw(gateway, "n3", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9")) {
            assertThat(extensions(offered)).isEqualTo("permessage-deflate; server_no_context_takeover; client_no_context_takeover");
            assertThat(extensions(none)).isNull();
            assertThat(extensions(declined)).isNull();
        }
        try (TestGateway off = TestGateway.start(); // off by default
                RawWebSocket offered = raw(off, "n4", OFFER)) {
            assertThat(extensions(offered)).isNull();
        }
    }

    @Test
    void manySubscribersGetOneSharedCompressedFramePerPublication() throws Exception {
        int nettyClients = 5;
        int publications = 4;
        List<NettyClient> clients = new ArrayList<>();
        try (RawWebSocket rawDeflate = raw(gateway, "r1", OFFER);
                RawWebSocket rawPlain = raw(gateway, "r2")) {
            for (int i = 0; i < nettyClients; i++) {
                clients.add(NettyClient.connect(gateway.uri(Tokens.hs256("netty" + i))));
            }
            for (NettyClient client : clients) {
                assertThat(client.next()).contains("\"type\":\"connected\"");
            }
            double compressions = metric("portcullis_compression_compressions_total");
            double deflated = metric("portcullis_compression_deliveries_total{frame=\"deflate\"}");
            double plainToCompressing = metric("portcullis_compression_deliveries_total{frame=\"plain\"}");
            for (int p = 0; p < publications; p++) {
                gateway.publish("feed", ALERT);
            }
            for (NettyClient client : clients) {
                for (int p = 0; p < publications; p++) {
                    assertThat(client.next()).contains("\"channel\":\"feed\"").contains(ALERT);
                }
                assertThat(client.compressedFrames.get()).as("frames with RSV1 before Netty's inflater").isBetween(0, publications);
            }
            int compressedSeen = clients.stream().mapToInt(c -> c.compressedFrames.get()).sum();
            for (int p = 0; p < publications; p++) {
                // Compressed, unless its event loop found another one compressing this publication right then.
                RawWebSocket.Frame frame = rawDeflate.read();
                byte[] text = frame.rsv1() ? Deflate.inflate(frame.payload()) : frame.payload();
                assertThat(new String(text, StandardCharsets.UTF_8)).contains(ALERT);
                compressedSeen += frame.rsv1() ? 1 : 0;
                if (frame.rsv1()) {
                    assertThat(frame.payload().length).isLessThan(text.length);
                }
                RawWebSocket.Frame plain = rawPlain.read();
                assertThat(plain.rsv1()).as("no compression without the extension").isFalse();
                assertThat(plain.text()).contains(ALERT);
            }
            double deflatedNow = metric("portcullis_compression_deliveries_total{frame=\"deflate\"}") - deflated;
            double plainNow = metric("portcullis_compression_deliveries_total{frame=\"plain\"}") - plainToCompressing;
            assertThat(metric("portcullis_compression_compressions_total") - compressions).as("one compression per publication").isEqualTo(publications);
            assertThat(deflatedNow + plainNow).isEqualTo(publications * (nettyClients + 1));
            assertThat(deflatedNow).as("the compressed frames the clients saw").isEqualTo(compressedSeen);
            assertThat(deflatedNow).as("each compressed frame went to more than one subscriber").isGreaterThan(publications);
        } finally {
            clients.forEach(NettyClient::close);
        }
    }

    @Test
    void aCompressedClientMessageIsUnderstood() throws Exception {
        try (RawWebSocket raw = raw(gateway, "c1", OFFER)) {
            raw.send(RawWebSocket.TEXT, Deflate.compress("{\"type\":\"ping\",\"id\":\"z9\"}".getBytes(StandardCharsets.UTF_8)), true, true);
            RawWebSocket.Frame pong = raw.read();
            assertThat(pong.rsv1()).as("replies go out plain").isFalse();
            assertThat(pong.text()).contains("\"type\":\"pong\"").contains("z9");
        }
    }

    @Test
    void aDecompressionBombClosesWith1009WithoutInflatingIt() throws Exception {
        int max = gateway.config().limits().maxMessageBytes();
        byte[] bomb = Deflate.compress(new byte[8 << 20]); // 8 MiB of zeros
        assertThat(bomb.length).as("small enough for the frame size cap").isLessThan(max);
        try (RawWebSocket raw = raw(gateway, "bomb", OFFER)) {
            double before = metric("portcullis_compression_inflated_bytes_total");
            raw.send(RawWebSocket.TEXT, bomb, true, true);
            RawWebSocket.Frame close = raw.readUntilClose();
            assertThat(close).isNotNull();
            assertThat(close.closeCode()).isEqualTo(1009);
            assertThat(metric("portcullis_compression_inflated_bytes_total") - before).as("inflated, of 8 MiB").isEqualTo(max + 1);
        }
    }

    @Test
    void aCompressedControlFrameIsAProtocolError() throws Exception {
        try (RawWebSocket raw = raw(gateway, "ctl", OFFER)) {
            raw.send(RawWebSocket.PING, new byte[] {1}, true, true);
            RawWebSocket.Frame close = raw.readUntilClose();
            assertThat(close).isNotNull();
            assertThat(close.closeCode()).isEqualTo(1002);
        }
    }

    /** Netty's WebSocket client with its permessage-deflate handler; counts the compressed frames it receives. */
    private static final class NettyClient implements AutoCloseable {
        /**
         * Netty's defaults refuse a server's {@code server_no_context_takeover} and
         * {@code client_no_context_takeover} unless asked for, though RFC 7692 (7.1.1.1, 7.1.1.2) lets a
         * server add both; so this client asks for them (it then offers {@code server_no_context_takeover}).
         */
        static final PerMessageDeflateClientExtensionHandshaker DEFLATE = new PerMessageDeflateClientExtensionHandshaker(6, false, 15, true, true, 1 << 20);
        final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final AtomicInteger compressedFrames = new AtomicInteger();
        private Channel channel;

        static NettyClient connect(URI uri) throws InterruptedException {
            NettyClient client = new NettyClient();
            WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                    .webSocketUri(uri).allowExtensions(true).handleCloseFrames(false).build();
            client.channel = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(65536),
                            new WebSocketClientExtensionHandler(DEFLATE), new WebSocketClientProtocolHandler(config), client.new Receiver());
                }
            }).connect(uri.getHost(), uri.getPort()).sync().channel();
            return client;
        }

        private final class Receiver extends ChannelInboundHandlerAdapter {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                    // Right after the frame decoder: frames as they came, before Netty inflates them.
                    String decoder = ctx.pipeline().context(WebSocketFrameDecoder.class).name();
                    ctx.pipeline().addAfter(decoder, "count-rsv1", new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext c, Object msg) {
                            if (msg instanceof WebSocketFrame f && (f.rsv() & 4) != 0) {
                                compressedFrames.incrementAndGet();
                            }
                            c.fireChannelRead(msg);
                        }
                    });
                }
                ctx.fireUserEventTriggered(event);
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof TextWebSocketFrame text) {
                    texts.add(text.text());
                } else if (msg instanceof CloseWebSocketFrame close) {
                    texts.add("close " + close.statusCode());
                }
                ReferenceCountUtil.release(msg);
            }
        }

        String next() throws InterruptedException {
            String text = texts.poll(10, TimeUnit.SECONDS);
            assertThat(text).as("a message within 10 s").isNotNull();
            return text;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }
}
