package dev.portcullis.bench.floor;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;

/**
 * One floor connection, the only handler in its pipeline: the HTTP upgrade read by hand and
 * answered 101 without any check (no token, no origin, no limit), then RFC 6455 client frames.
 *
 * <p>It speaks just enough of the gateway's protocol for the load generator: the greeting
 * {@code {"type":"connected"}} right after the upgrade, {@code subscribe} answered with
 * {@code {"type":"ack","id":...,"channel":...}}, pings with pongs, a close with a close. Anything else
 * a client sends is ignored. Client frames are not on the fan-out path (one subscribe per
 * connection), so they are read plainly: unmasked into a small array and looked at as text.
 *
 * <p>Bounds: the upgrade request at most {@link #MAX_REQUEST_BYTES}, a client frame at most
 * {@link #MAX_FRAME_BYTES} (beyond: close 1009); the connection lives until either side closes.
 *
 * <p>Threading: everything on the channel's event loop.
 */
final class FloorSocket extends ChannelInboundHandlerAdapter {
    static final int MAX_REQUEST_BYTES = 16 * 1024;
    static final int MAX_FRAME_BYTES = 64 * 1024;
    private static final byte[] CONNECTED = "{\"type\":\"connected\"}".getBytes(StandardCharsets.US_ASCII);
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final FastThreadLocal<MessageDigest> SHA1 = new FastThreadLocal<>() {
        @Override
        protected MessageDigest initialValue() throws NoSuchAlgorithmException {
            return MessageDigest.getInstance("SHA-1");
        }
    };

    private final FloorChannels channels;
    private ByteBuf cumulation;
    private boolean open;
    private boolean closing;

    FloorSocket(FloorChannels channels) {
        this.channels = channels;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (cumulation == null) {
            cumulation = in;
        } else {
            ByteBuf joined = ctx.alloc().buffer(cumulation.readableBytes() + in.readableBytes());
            joined.writeBytes(cumulation).writeBytes(in);
            cumulation.release();
            in.release();
            cumulation = joined;
        }
        try {
            if (!open && !upgrade(ctx, cumulation)) {
                return;
            }
            while (open && !closing && frame(ctx, cumulation)) {
                // one client frame at a time
            }
        } finally {
            if (cumulation != null && !cumulation.isReadable()) {
                cumulation.release();
                cumulation = null;
            }
        }
    }

    /** Answers the upgrade once its header is complete; false while it is not (or it was refused). */
    private boolean upgrade(ChannelHandlerContext ctx, ByteBuf buf) {
        int end = headerEnd(buf);
        if (end < 0) {
            if (buf.readableBytes() > MAX_REQUEST_BYTES) {
                refuse(ctx, buf, "431 Request Header Fields Too Large");
            }
            return false;
        }
        String request = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.ISO_8859_1);
        buf.readerIndex(end);
        String key = header(request, "sec-websocket-key");
        if (!request.startsWith("GET /ws") || key == null) {
            refuse(ctx, buf, key == null ? "400 Bad Request" : "404 Not Found");
            return false;
        }
        MessageDigest sha1 = SHA1.get();
        String accept = Base64.getEncoder().encodeToString(sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
        ByteBuf answer = ctx.alloc().buffer(160);
        answer.writeCharSequence("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept + "\r\n\r\n", StandardCharsets.US_ASCII);
        writeText(answer, CONNECTED);
        ctx.writeAndFlush(answer, ctx.voidPromise());
        open = true;
        return true;
    }

    private void refuse(ChannelHandlerContext ctx, ByteBuf buf, String status) {
        buf.skipBytes(buf.readableBytes());
        closing = true;
        ByteBuf answer = ctx.alloc().buffer(96);
        answer.writeCharSequence("HTTP/1.1 " + status + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", StandardCharsets.US_ASCII);
        ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    }

    /** Handles one complete client frame from {@code buf}; false when none is complete yet. */
    private boolean frame(ChannelHandlerContext ctx, ByteBuf buf) {
        int readable = buf.readableBytes();
        if (readable < 2) {
            return false;
        }
        int at = buf.readerIndex();
        int opcode = buf.getUnsignedByte(at) & 0x0f;
        int b1 = buf.getUnsignedByte(at + 1);
        long length = b1 & 0x7f;
        int header = 2;
        if (length == 126) {
            if (readable < 4) {
                return false;
            }
            length = buf.getUnsignedShort(at + 2);
            header = 4;
        } else if (length == 127) {
            if (readable < 10) {
                return false;
            }
            length = buf.getLong(at + 2);
            header = 10;
        }
        boolean masked = (b1 & 0x80) != 0;
        if (length > MAX_FRAME_BYTES || length < 0 || !masked) {
            close(ctx, length > MAX_FRAME_BYTES || length < 0 ? 1009 : 1002); // clients always mask (RFC 6455 5.1)
            buf.skipBytes(readable);
            return false;
        }
        if (readable < header + 4 + length) {
            return false;
        }
        int mask = buf.getInt(at + header);
        byte[] payload = new byte[(int) length];
        buf.getBytes(at + header + 4, payload);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= (byte) (mask >>> (24 - 8 * (i & 3)));
        }
        buf.skipBytes(header + 4 + (int) length);
        switch (opcode) {
            case 0x1 -> onText(ctx, new String(payload, StandardCharsets.UTF_8));
            case 0x9 -> {
                ByteBuf pong = ctx.alloc().buffer(2 + payload.length);
                pong.writeByte(0x8A).writeByte(payload.length).writeBytes(payload);
                ctx.writeAndFlush(pong, ctx.voidPromise());
            }
            case 0x8 -> close(ctx, payload.length >= 2 ? (payload[0] & 0xff) << 8 | payload[1] & 0xff : 1000);
            default -> {} // pong, binary, continuation: nothing to do
        }
        return true;
    }

    /** {@code subscribe} gets its ack (the channel and the id echoed); every other message is ignored. */
    private void onText(ChannelHandlerContext ctx, String text) {
        if (!"subscribe".equals(field(text, "type"))) {
            return;
        }
        String channel = field(text, "channel");
        String id = field(text, "id");
        String answer;
        if (channel == null || channel.isEmpty()) {
            answer = "{\"type\":\"error\"" + (id == null ? "" : ",\"id\":\"" + id + "\"") + ",\"code\":\"bad_request\"}";
        } else {
            channels.subscribe(channel, ctx.channel());
            answer = "{\"type\":\"ack\"" + (id == null ? "" : ",\"id\":\"" + id + "\"") + ",\"channel\":\"" + channel + "\"}";
        }
        ByteBuf frame = ctx.alloc().buffer(answer.length() + 4);
        writeText(frame, answer.getBytes(StandardCharsets.UTF_8));
        ctx.writeAndFlush(frame, ctx.voidPromise());
    }

    private void close(ChannelHandlerContext ctx, int code) {
        closing = true;
        ByteBuf frame = ctx.alloc().buffer(4);
        frame.writeByte(0x88).writeByte(2).writeShort(code);
        ctx.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a reset by the peer, mostly: nothing to report
    }

    /** An unmasked, unfragmented text frame (server to client) holding {@code payload}, appended to {@code out}. */
    static void writeText(ByteBuf out, byte[] payload) {
        out.writeByte(0x81);
        if (payload.length < 126) {
            out.writeByte(payload.length);
        } else if (payload.length < 65536) {
            out.writeByte(126).writeShort(payload.length);
        } else {
            out.writeByte(127).writeLong(payload.length);
        }
        out.writeBytes(payload);
    }

    /** The index just past the blank line ending the HTTP header, or -1. */
    private static int headerEnd(ByteBuf buf) {
        for (int i = buf.readerIndex(), end = buf.writerIndex() - 3; i < end; i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n' && buf.getByte(i + 2) == '\r' && buf.getByte(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    /** A header's value ({@code name} in lower case), or null. */
    static String header(String request, String name) {
        for (String line : request.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** The string value of {@code "name":"..."} in compact JSON text, or null (enough for the generator's subscribe). */
    static String field(String json, String name) {
        String key = "\"" + name + "\":\"";
        int from = json.indexOf(key);
        if (from < 0) {
            return null;
        }
        from += key.length();
        int to = json.indexOf('"', from);
        return to < 0 ? null : json.substring(from, to);
    }
}
