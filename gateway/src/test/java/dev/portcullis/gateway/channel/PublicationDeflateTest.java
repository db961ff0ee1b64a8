package dev.portcullis.gateway.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.metrics.CompressionMetrics;
import dev.portcullis.gateway.testing.Deflate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** The shared compressed frame of a publication (permessage-deflate, RFC 7692). */
class PublicationDeflateTest {
    /** A 300-byte JSON alert, the size the compression figures in BENCHMARKS.md are for. */
    static final String ALERT = "{\"severity\":\"high\",\"title\":\"Disk usage above threshold on db-7\",\"host\":\"db-7.eu-west\","
            + "\"metric\":\"disk.used.percent\",\"value\":93.4,\"threshold\":90,\"since\":\"2026-12-07T20:41:03Z\","
            + "\"runbook\":\"https://runbooks.example.com/disk-usage\",\"tags\":[\"storage\",\"database\",\"production\"],\"ack\":false}";

    private final CompressionMetrics metrics = CompressionMetrics.detached();

    private static Publication alert() {
        return Publication.encode(PooledByteBufAllocator.DEFAULT, "alerts", 7, "e1", ALERT);
    }

    private static String plainText(Publication publication) {
        ByteBuf text = publication.retainedFrame();
        try {
            return text.toString(StandardCharsets.UTF_8);
        } finally {
            text.release();
        }
    }

    @Test
    void theCompressedFrameHasRsv1AndInflatesToTheMessage() {
        Publication publication = alert();
        ByteBuf frame = publication.retainedDeflatedWireFrame(metrics);
        try {
            assertThat((int) frame.getUnsignedByte(frame.readerIndex())).isEqualTo(0xC1); // FIN + RSV1 + text
            int length = frame.getUnsignedByte(frame.readerIndex() + 1);
            int header = 2;
            if (length == 126) {
                length = frame.getUnsignedShort(frame.readerIndex() + 2);
                header = 4;
            }
            byte[] payload = ByteBufUtil.getBytes(frame, frame.readerIndex() + header, frame.readableBytes() - header);
            assertThat(payload).hasSize(length);
            assertThat(payload.length).isLessThan(publication.size());
            assertThat(new String(Deflate.inflate(payload), StandardCharsets.UTF_8)).isEqualTo(plainText(publication));
        } finally {
            frame.release();
            publication.release();
        }
    }

    @Test
    void everyCompressingSubscriberOnEveryThreadGetsTheSameFrameCompressedOnce() throws Exception {
        int threads = 4;
        int deliveriesPerThread = 5;
        int publications = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int p = 0; p < publications; p++) {
                Publication publication = alert();
                ByteBuf plain = publication.retainedWireFrame();
                long plainAddress = plain.memoryAddress() + plain.readerIndex();
                plain.release();
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<List<Long>>> addresses = new ArrayList<>();
                Callable<List<Long>> deliver = () -> {
                    start.await(); // all threads at once, as the event loops of a fan-out
                    List<Long> seen = new ArrayList<>();
                    for (int d = 0; d < deliveriesPerThread; d++) {
                        ByteBuf frame = publication.retainedDeflatedWireFrame(metrics);
                        seen.add(frame.memoryAddress() + frame.readerIndex());
                        frame.release();
                    }
                    return seen;
                };
                for (int t = 0; t < threads; t++) {
                    addresses.add(pool.submit(deliver));
                }
                Set<Long> distinct = new HashSet<>();
                for (Future<List<Long>> address : addresses) {
                    distinct.addAll(address.get());
                }
                distinct.remove(plainAddress); // sent plain while another thread was compressing: allowed, never waited for
                assertThat(distinct).as("one compressed frame in memory, shared").hasSize(1);
                ByteBuf after = publication.retainedDeflatedWireFrame(metrics);
                assertThat(after.memoryAddress() + after.readerIndex()).isEqualTo(distinct.iterator().next());
                after.release();
                publication.release();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(metrics.compressions()).isEqualTo(publications);
        assertThat(metrics.deflatedDeliveries()).isGreaterThanOrEqualTo(publications * 2.0); // each compression served more than one
    }

    @Test
    void shortMessagesStayPlain() {
        Publication publication = Publication.encode(PooledByteBufAllocator.DEFAULT, "alerts", 1, "e1", "{\"n\":1}");
        ByteBuf deflated = publication.retainedDeflatedWireFrame(metrics);
        ByteBuf plain = publication.retainedWireFrame();
        try {
            assertThat(deflated).isEqualTo(plain);
            assertThat((int) deflated.getUnsignedByte(deflated.readerIndex())).isEqualTo(0x81); // no RSV1
        } finally {
            deflated.release();
            plain.release();
            publication.release();
        }
        assertThat(metrics.compressions()).isZero();
    }

    @Test
    void incompressiblePayloadsStayPlain() {
        byte[] noise = new byte[4096];
        ThreadLocalRandom.current().nextBytes(noise);
        assertThat(FrameDeflater.deflate(PooledByteBufAllocator.DEFAULT, Unpooled.wrappedBuffer(noise))).isNull();
    }

    @Test
    void aLargeMessageGetsTheLongHeaderForms() {
        String data = "[" + (ALERT + ",").repeat(400) + "0]"; // ~120 KiB plain
        Publication publication = Publication.encode(PooledByteBufAllocator.DEFAULT, "alerts", 1, "e1", data);
        ByteBuf frame = publication.retainedDeflatedWireFrame(metrics);
        try {
            int length = frame.getUnsignedByte(frame.readerIndex() + 1);
            assertThat(length).isEqualTo(126); // compressed to a 16-bit length
            byte[] payload = ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, frame.readableBytes() - 4);
            assertThat(payload).hasSize(frame.getUnsignedShort(frame.readerIndex() + 2));
            assertThat(new String(Deflate.inflate(payload), StandardCharsets.UTF_8)).isEqualTo(plainText(publication));
        } finally {
            frame.release();
            publication.release();
        }
    }
}
