package dev.portcullis.gateway.channel;

import dev.portcullis.gateway.metrics.CompressionMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.EmptyByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * One publication, encoded once as a complete WebSocket text frame (an unmasked RFC 6455 header
 * followed by {@code {"type":"message","channel":...,"offset":...,"epoch":...,"data":...}}) and shared by every
 * subscriber: each write takes a {@link #retainedWireFrame() retained duplicate}, so a fan-out to N
 * connections costs N reference-count increments, not N encodings or copies. (Writing a
 * {@code TextWebSocketFrame} instead would make Netty's encoder copy payloads under 1 KiB into a
 * fresh buffer per subscriber: half the cost of a fan-out, measured in BENCHMARKS.md. The header is
 * valid for every connection: the only extension the gateway negotiates, permessage-deflate, leaves
 * uncompressed messages as they are.)
 *
 * <p>Compression (permessage-deflate, RFC 7692, negotiated without context takeover): the first
 * compressing subscriber that gets the publication compresses it, once, into a second shared frame
 * with RSV1 set ({@link #retainedDeflatedWireFrame}); every other compressing subscriber, on any
 * event loop, writes a retained duplicate of that same frame. Publications nobody compressing
 * receives are never compressed. An event loop never waits for another one's compression: while it
 * is under way, its subscribers get the plain frame (RFC 7692 lets the sender choose per message). The compressed frame lives as long as the publication (a
 * publication kept in the in-memory history keeps it too, at most the plain frame's size again).
 *
 * <p>Reference counting: the creator holds one reference and releases it after handing the
 * publication to the index; each fan-out task holds one while it runs.
 */
public final class Publication extends AbstractReferenceCounted {
    private static final String PREFIX = "{\"type\":\"message\",\"channel\":\"";
    private static final String OFFSET = "\",\"offset\":";
    private static final String EPOCH = ",\"epoch\":\"";
    private static final String DATA = "\",\"data\":";
    private static final String GAP_PREFIX = "{\"type\":\"gap\",\"channel\":\"";

    private final String channel;
    private final long offset;
    private final String epoch;
    private final ByteBuf frame;
    private final int headerLength;
    private final boolean gap;
    /**
     * The compressed frame: null until a compressing subscriber first asks, {@link #COMPRESSING} while
     * the one thread that won the race compresses, then the frame, or {@link #STAYS_PLAIN} when
     * compression does not pay.
     */
    private volatile ByteBuf deflated;
    private static final AtomicReferenceFieldUpdater<Publication, ByteBuf> DEFLATED =
            AtomicReferenceFieldUpdater.newUpdater(Publication.class, ByteBuf.class, "deflated");
    private static final ByteBuf STAYS_PLAIN = new EmptyByteBuf(UnpooledByteBufAllocator.DEFAULT);
    private static final ByteBuf COMPRESSING = new EmptyByteBuf(UnpooledByteBufAllocator.DEFAULT);
    /** For a presence {@link #event}: the connection that joined or left; null for publications and gaps. */
    private final String origin;

    private Publication(String channel, long offset, String epoch, ByteBuf frame, int headerLength, boolean gap) {
        this(channel, offset, epoch, frame, headerLength, gap, null);
    }

    private Publication(String channel, long offset, String epoch, ByteBuf frame, int headerLength, boolean gap, String origin) {
        this.channel = channel;
        this.offset = offset;
        this.epoch = epoch;
        this.frame = frame;
        this.headerLength = headerLength;
        this.gap = gap;
        this.origin = origin;
    }

    /**
     * A presence event ({@code {"type":"join"|"leave","channel":...,"user":...,"connection":...}},
     * given as complete JSON text): not a publication, so it has no offset or epoch ({@code -1} and
     * {@code ""}) and is in no history, but it travels the same fan-out path to the channel's
     * subscribers, written once for all of them. {@code origin} is the connection the event is about:
     * it is not told about itself.
     */
    public static Publication event(ByteBufAllocator alloc, String channel, String origin, String eventJson) {
        byte[] payload = eventJson.getBytes(StandardCharsets.UTF_8);
        int header = header(payload.length);
        ByteBuf frame = alloc.directBuffer(header + payload.length);
        writeHeader(frame, payload.length);
        frame.writeBytes(payload);
        return new Publication(channel, -1, "", frame, header, false, origin);
    }

    static int header(int payload) {
        return payload < 126 ? 2 : payload < 65536 ? 4 : 10;
    }

    private static void writeHeader(ByteBuf frame, int payload) {
        int at = frame.writerIndex();
        frame.writerIndex(at + header(payload));
        setHeader(frame, at, 0x81, payload); // FIN + text
    }

    /** Sets a server frame's header (no mask) at {@code at}: {@code first} is FIN, RSV and opcode. */
    static void setHeader(ByteBuf frame, int at, int first, int payload) {
        frame.setByte(at, first);
        if (payload < 126) {
            frame.setByte(at + 1, payload);
        } else if (payload < 65536) {
            frame.setByte(at + 1, 126);
            frame.setShort(at + 2, payload);
        } else {
            frame.setByte(at + 1, 127);
            frame.setLong(at + 2, payload);
        }
    }

    /**
     * Assembles the frame from a valid channel name and an epoch (both plain ASCII without quotes:
     * no escaping needed) and the data's JSON text.
     */
    public static Publication encode(ByteBufAllocator alloc, String channel, long offset, String epoch, String dataJson) {
        return encode(alloc, PREFIX, channel, offset, epoch, DATA, dataJson.getBytes(StandardCharsets.UTF_8), false);
    }

    /**
     * A {@code gap} notice, {@code {"type":"gap","channel":...,"offset":...,"epoch":...}}: publications
     * of the channel up to this position may have been lost and cannot be recovered (a Redis failover
     * lost them, or the history no longer covers the hole); live ones continue after it. It travels
     * the fan-out path like a publication, so it reaches each subscriber in order with them.
     */
    public static Publication gap(ByteBufAllocator alloc, String channel, long offset, String epoch) {
        return encode(alloc, GAP_PREFIX, channel, offset, epoch, "\"", new byte[0], true);
    }

    private static Publication encode(ByteBufAllocator alloc, String prefix, String channel, long offset, String epoch, String beforeData,
            byte[] data, boolean gap) {
        String offsetText = Long.toString(offset);
        int payload = prefix.length() + channel.length() + OFFSET.length() + offsetText.length() + EPOCH.length() + epoch.length()
                + beforeData.length() + data.length + 1;
        int header = header(payload);
        ByteBuf frame = alloc.directBuffer(header + payload);
        writeHeader(frame, payload);
        frame.writeCharSequence(prefix, StandardCharsets.US_ASCII);
        frame.writeCharSequence(channel, StandardCharsets.US_ASCII);
        frame.writeCharSequence(OFFSET, StandardCharsets.US_ASCII);
        frame.writeCharSequence(offsetText, StandardCharsets.US_ASCII);
        frame.writeCharSequence(EPOCH, StandardCharsets.US_ASCII);
        frame.writeCharSequence(epoch, StandardCharsets.US_ASCII);
        frame.writeCharSequence(beforeData, StandardCharsets.US_ASCII);
        frame.writeBytes(data);
        frame.writeByte('}');
        return new Publication(channel, offset, epoch, frame, header, gap);
    }

    public String channel() {
        return channel;
    }

    public long offset() {
        return offset;
    }

    public String epoch() {
        return epoch;
    }

    /** True for a presence {@link #event} rather than a publication. */
    public boolean isEvent() {
        return origin != null;
    }

    /** The connection a presence {@link #event} is about; null for publications and gaps. */
    public String origin() {
        return origin;
    }

    /** True for a {@link #gap} notice rather than a publication. */
    public boolean isGap() {
        return gap;
    }

    /**
     * {@link #encode(ByteBufAllocator, String, long, String, String)} with {@link ByteBufAllocator#DEFAULT},
     * the one allocator of the gateway: the brokers' publications and the connections' frames come
     * from it too (set as each connection's {@code ALLOCATOR}), so there is one set of pools.
     */
    public static Publication encode(String channel, long offset, String epoch, String dataJson) {
        return encode(ByteBufAllocator.DEFAULT, channel, offset, epoch, dataJson);
    }

    /** Bytes of the message text (the frame's payload). */
    public int size() {
        return frame.readableBytes() - headerLength;
    }

    /** The whole WebSocket frame, header included, with its own reference, for one write; the writer releases it. */
    public ByteBuf retainedWireFrame() {
        return frame.retainedDuplicate();
    }

    /**
     * The frame for a connection that negotiated permessage-deflate, with its own reference, for one
     * write: the shared compressed frame (compressed now if this is the first such delivery), or the
     * plain one when the message stays plain (short, or incompressible). Counts the delivery in
     * {@code metrics}. From any thread.
     */
    public ByteBuf retainedDeflatedWireFrame(CompressionMetrics metrics) {
        ByteBuf compressed = deflated;
        if (compressed == null) {
            compressed = deflateOnce(metrics);
        }
        if (compressed == STAYS_PLAIN || compressed == COMPRESSING) {
            metrics.deliveredPlain();
            return frame.retainedDuplicate();
        }
        metrics.deliveredDeflated();
        return compressed.retainedDuplicate();
    }

    /**
     * Compresses exactly once: the thread that claims the work compresses; one that finds it claimed
     * gets {@link #COMPRESSING} and sends plain rather than wait. (A lock here made the other event
     * loop park on nearly every publication, since both loops reach a new publication at the same
     * moment; on a busy machine each wake-up cost milliseconds of delivery latency.)
     */
    private ByteBuf deflateOnce(CompressionMetrics metrics) {
        if (!DEFLATED.compareAndSet(this, null, COMPRESSING)) {
            return deflated;
        }
        ByteBuf compressed = null;
        try {
            compressed = FrameDeflater.deflate(frame.alloc(), frame.slice(headerLength, frame.readableBytes() - headerLength));
        } finally {
            if (compressed == null) {
                compressed = STAYS_PLAIN; // also when compression failed: this publication goes out plain
            } else {
                metrics.compressed();
            }
            deflated = compressed;
        }
        return compressed;
    }

    /** Only the message text (the frame's payload), with its own reference; the caller releases it. */
    public ByteBuf retainedFrame() {
        return frame.retainedSlice(headerLength, frame.readableBytes() - headerLength);
    }

    @Override
    protected void deallocate() {
        frame.release();
        ByteBuf compressed = deflated;
        if (compressed != null && compressed != STAYS_PLAIN && compressed != COMPRESSING) {
            compressed.release();
        }
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        frame.touch(hint);
        return this;
    }
}
