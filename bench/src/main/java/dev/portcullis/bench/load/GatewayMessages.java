package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a {@link WsConnection} makes of the gateway's messages once the socket speaks WebSocket:
 * finds the {@code type} (and the few fields needed) in place, subscribes when {@code connected}
 * comes, counts deliveries and their latency and gaps ({@link SubscriberOffsets}), drives the
 * inbound publishing on acks and errors ({@link InboundSender}), answers re-authentication requests
 * with a fresh token, and closes a churning connection after its hold.
 *
 * <p>Its own class because the message protocol is one layer above the connection's life (upgrade,
 * close handshake, how it ended): the connection hands over text frames and says when it opened;
 * this tells it when the set-up finished or failed and when to close.
 *
 * <p>Threads: one per connection, used only on that connection's event loop, like the connection;
 * {@link SubscriberOffsets} says how the worker reads a subscriber's offsets.
 */
final class GatewayMessages {
    private static final byte[] SUBSCRIBE_ID = Scan.ascii("s");

    private final WsConnection connection;
    private final Worker worker;
    private final WsConnection.Role role;
    /** Global connection number (for the user name and the room); -1 for churning connections. */
    private final int index;
    /** SUBSCRIBE and PUBLISH with room subscriptions. */
    private boolean subscribed;
    /** SUBSCRIBE only, else null. */
    private final SubscriberOffsets offsets;
    /** PUBLISH only, else null. */
    private final InboundSender sender;

    GatewayMessages(WsConnection connection, Worker worker, int index) {
        this.connection = connection;
        this.worker = worker;
        this.role = connection.role;
        this.index = index;
        this.offsets = role == WsConnection.Role.SUBSCRIBE ? new SubscriberOffsets() : null;
        this.sender = role == WsConnection.Role.PUBLISH ? new InboundSender(connection, worker, index) : null;
    }

    boolean subscribed() {
        return subscribed;
    }

    /** A subscriber's offsets; null for any other role. */
    SubscriberOffsets offsets() {
        return offsets;
    }

    /** The latest offset this subscriber received; -1 before the first, or when it is no subscriber. */
    long lastOffset() {
        return offsets == null ? -1 : offsets.last();
    }

    /** Starts (or resumes) the inbound publishing of this open PUBLISH connection. */
    void startSending(Channel channel, ChannelHandlerContext ctx) {
        sender.start(channel, ctx);
    }

    /** A text frame's payload {@code [from, to)} of {@code buf}, {@code frameBytes} on the wire. */
    void onText(ChannelHandlerContext ctx, ByteBuf buf, int from, int to, int frameBytes) {
        byte[] b = Scan.head(buf, from, to);
        int end = Math.min(Scan.HEAD_BYTES, to - from);
        int type = Scan.after(b, 0, end, Scan.TYPE);
        byte t = type < 0 || type >= end ? 0 : b[type];
        switch (t) {
            case 'm' -> onMessage(b, type, end, frameBytes);
            case 'c' -> onConnected(ctx);
            case 'a' -> onAck(ctx, b, type, end);
            case 's' -> onSubscribed(); // node-ws: {"type":"subscribed","channel":...}
            case 'e' -> onError(ctx, b, type, end);
            case 'r' -> onReauth(ctx);
            case 'd' -> worker.counters().count("message.disconnect");
            case 'p' -> {}
            default -> worker.counters().otherMessages.increment();
        }
    }

    /** A publication: the fan-out channel's are counted for delivery rate, gaps and latency. */
    private void onMessage(byte[] b, int from, int to, int frameBytes) {
        if (role != WsConnection.Role.SUBSCRIBE) {
            if (role == WsConnection.Role.PUBLISH) {
                worker.counters().count("room_deliveries");
            } else {
                worker.counters().otherMessages.increment();
            }
            return;
        }
        int channelAt = Scan.after(b, from, to, Scan.CHANNEL);
        if (!Scan.quotedEquals(b, channelAt, to, worker.channelBytes())) {
            worker.counters().otherMessages.increment(); // e.g. the personal channel
            return;
        }
        long offset = Scan.numberAfter(b, channelAt, to, worker.sequenceKey());
        if (!offsets.accept(offset)) {
            worker.counters().count("duplicates");
            return;
        }
        worker.counters().deliveries.increment();
        worker.counters().deliveryBytes.add(frameBytes);
        long sentMicros = Scan.numberAfter(b, channelAt, to, Scan.TS);
        if (sentMicros != Scan.NONE && sentMicros >= worker.measureFromMicros()) {
            worker.delivery().recordValue(Math.max(0, Scan.wallMicros() - sentMicros));
        }
    }

    /** The gateway's {@code connected} (or, for a peer that does not greet, the upgrade's 101). */
    void onConnected(ChannelHandlerContext ctx) {
        switch (role) {
            case SUBSCRIBE -> {
                if (worker.plan().autoSubscribe()) {
                    subscribedNow(); // the gateway joins automatic channels before it sends connected
                } else {
                    send(ctx, worker.subscribeMessage());
                }
            }
            case PUBLISH -> {
                if (worker.plan().subscribeRooms()) {
                    send(ctx, worker.roomSubscribeMessage(index));
                }
                if (worker.sending()) {
                    connection.startSending();
                }
            }
            case CHURN -> {
                long hold = worker.plan().churnHoldMs();
                if (hold <= 0) {
                    connection.closeGracefully();
                } else {
                    ctx.executor().schedule(connection::closeGracefully, hold, TimeUnit.MILLISECONDS);
                }
            }
            default -> {}
        }
    }

    private void onSubscribed() {
        if (role == WsConnection.Role.SUBSCRIBE && !worker.plan().target().acksSubscribeById()) {
            subscribedNow();
        } else {
            worker.counters().otherMessages.increment();
        }
    }

    private void subscribedNow() {
        if (!subscribed) {
            subscribed = true;
            worker.counters().subscribed.increment();
            connection.reportLaunch(true);
        }
    }

    private void onAck(ChannelHandlerContext ctx, byte[] b, int from, int to) {
        int id = Scan.after(b, from, to, Scan.ID);
        if (Scan.quotedEquals(b, id, to, SUBSCRIBE_ID)) {
            subscribedNow();
            return;
        }
        if (sender != null) {
            sender.acked(ctx);
        }
    }

    private void onError(ChannelHandlerContext ctx, byte[] b, int from, int to) {
        int id = Scan.after(b, from, to, Scan.ID);
        int codeAt = Scan.after(b, from, to, Scan.CODE);
        boolean rateLimited = codeAt > 0 && codeAt + 1 < to && b[codeAt] == 'r' && b[codeAt + 1] == 'a';
        if (rateLimited) {
            worker.counters().rateLimited.increment();
        } else {
            worker.counters().count("error." + Scan.quoted(b, codeAt, to));
        }
        if (Scan.quotedEquals(b, id, to, SUBSCRIBE_ID)) {
            connection.fail("subscribe_" + Scan.quoted(b, codeAt, to));
            return;
        }
        if (sender != null) {
            sender.refused(ctx, rateLimited, b, from, to);
        }
    }

    private void onReauth(ChannelHandlerContext ctx) {
        String token = worker.freshToken(index);
        if (token == null) {
            worker.counters().count("reauth_unanswered");
            return;
        }
        worker.counters().reauths.increment();
        send(ctx, ("{\"type\":\"auth\",\"token\":\"" + token + "\"}").getBytes(StandardCharsets.US_ASCII));
    }

    private void send(ChannelHandlerContext ctx, byte[] text) {
        ctx.writeAndFlush(Frames.text(ctx.alloc(), text), ctx.voidPromise());
    }
}
