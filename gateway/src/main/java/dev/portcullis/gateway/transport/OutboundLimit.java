package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.session.Disconnect;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The bound on one connection's unsent bytes, and the slow-consumer close (4009) that enforces it.
 * Past the write-buffer high water mark ({@code limits.max-outbound-bytes}) the client is not read
 * (its requests would only queue more replies) and has {@code limits.slow-consumer-grace} to drain;
 * past twice the mark it is closed at once. Back under the low mark it is read again and the grace is
 * cancelled.
 *
 * <p>Apart from {@link WebSocketHandler} because it is its own state machine (the grace timer,
 * started and cancelled by writability) and only a connection that ever stops reading needs it: the
 * handler creates one at the first unwritability, so the many connections that keep up carry no
 * object for it. The handler's hot path stays where it was: a write checks
 * {@code channel.isWritable()} itself and asks this class only when the channel is not.
 *
 * <p>Threading: confined to the connection's event loop, like its handler: every caller (the write
 * paths, writability changes, the grace timer scheduled on that loop, channel inactive) runs there.
 * It logs under {@link WebSocketHandler}'s logger, as before the split.
 */
final class OutboundLimit {
    private static final Logger log = LoggerFactory.getLogger(WebSocketHandler.class);

    private final WebSocketHandler handler;
    private final Channel channel;
    private final Services services;
    private ScheduledFuture<?> slowGrace;

    OutboundLimit(WebSocketHandler handler, Channel channel, Services services) {
        this.handler = handler;
        this.channel = channel;
        this.services = services;
    }

    /**
     * For a channel that is not writable: false (and the connection closing with 4009) once more than
     * twice {@code limits.max-outbound-bytes} wait unsent.
     */
    boolean withinHardLimit() {
        if (unsentBytes() > 2L * services.config().limits().maxOutboundBytes()) {
            slowConsumer();
            return false;
        }
        return true;
    }

    /**
     * Over the high water mark: stop reading the client and start the slow-consumer grace. Back
     * under the low mark: read again, grace cancelled.
     */
    void writabilityChanged() {
        if (channel.isWritable()) {
            channel.config().setAutoRead(true);
            if (slowGrace != null) {
                slowGrace.cancel(false);
                slowGrace = null;
            }
        } else {
            channel.config().setAutoRead(false);
            startSlowConsumerGrace();
        }
    }

    /** The connection is gone: no grace left to run out. */
    void cancel() {
        if (slowGrace != null) {
            slowGrace.cancel(false);
        }
    }

    /**
     * The bytes waiting in the channel's outbound buffer, through Netty's public API: while the
     * channel is unwritable, what must drain to reach the low water mark, plus the mark. While it is
     * writable this says 0: it is under the high water mark, which is all the limit needs to know.
     */
    private long unsentBytes() {
        long pastLowMark = channel.bytesBeforeWritable(); // pending - low mark + 1 while unwritable, else 0
        return pastLowMark == 0 ? 0 : pastLowMark + channel.config().getWriteBufferLowWaterMark() - 1;
    }

    private void startSlowConsumerGrace() {
        if (slowGrace == null) {
            long grace = services.config().limits().slowConsumerGrace().toNanos();
            slowGrace = channel.eventLoop().schedule(() -> {
                slowGrace = null;
                if (!channel.isWritable()) {
                    slowConsumer();
                }
            }, grace, TimeUnit.NANOSECONDS);
        }
    }

    private void slowConsumer() {
        if (handler.closing()) {
            return;
        }
        services.metrics().slowConsumer();
        try (var ignored = MDC.putCloseable("conn", handler.id())) {
            log.info("slow consumer: closing with 4009 ({} bytes unsent)", unsentBytes());
        }
        handler.disconnect(Disconnect.SLOW_CONSUMER);
    }
}
