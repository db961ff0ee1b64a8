package dev.portcullis.gateway.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;

/**
 * One publication, encoded once as the complete {@code message} frame text
 * {@code {"type":"message","channel":...,"offset":...,"data":...}} and shared by every subscriber:
 * each write takes a {@link #retainedFrame() retained duplicate}, so a fan-out to N connections costs
 * N reference-count increments, not N encodings or copies.
 *
 * <p>Reference counting: the creator holds one reference and releases it after handing the
 * publication to the index; each fan-out task holds one while it runs.
 */
public final class Publication extends AbstractReferenceCounted {
    private final String channel;
    private final long offset;
    private final ByteBuf frame;

    private Publication(String channel, long offset, ByteBuf frame) {
        this.channel = channel;
        this.offset = offset;
        this.frame = frame;
    }

    /** Assembles the frame from a valid channel name (no escaping needed) and the data's JSON text. */
    public static Publication encode(ByteBufAllocator alloc, String channel, long offset, String dataJson) {
        byte[] data = dataJson.getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = alloc.directBuffer(48 + channel.length() + 20 + data.length);
        frame.writeCharSequence("{\"type\":\"message\",\"channel\":\"", StandardCharsets.US_ASCII);
        frame.writeCharSequence(channel, StandardCharsets.US_ASCII);
        frame.writeCharSequence("\",\"offset\":", StandardCharsets.US_ASCII);
        frame.writeCharSequence(Long.toString(offset), StandardCharsets.US_ASCII);
        frame.writeCharSequence(",\"data\":", StandardCharsets.US_ASCII);
        frame.writeBytes(data);
        frame.writeByte('}');
        return new Publication(channel, offset, frame);
    }

    public String channel() {
        return channel;
    }

    public long offset() {
        return offset;
    }

    /** Bytes of the frame payload. */
    public int size() {
        return frame.readableBytes();
    }

    /** A duplicate of the frame with its own reference, for one write; the writer releases it. */
    public ByteBuf retainedFrame() {
        return frame.retainedDuplicate();
    }

    @Override
    protected void deallocate() {
        frame.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        frame.touch(hint);
        return this;
    }
}
