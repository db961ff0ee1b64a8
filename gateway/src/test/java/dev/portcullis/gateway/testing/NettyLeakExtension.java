package dev.portcullis.gateway.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty reports a leak ({@code LEAK: ByteBuf.release() was not called...}) during
 * it: registered for every test class by JUnit's extension auto-detection
 * (src/test/resources/junit-platform.properties and META-INF/services). Without it, paranoid
 * detection only logs, and a leak goes unnoticed in a green build.
 *
 * <p>Netty finds a leak only when the garbage collector has collected the unreleased buffer and a
 * later buffer is tracked. So after each test that tracked anything, this runs a GC, waits until
 * the GC's references are enqueued, and allocates one (tracked, so direct) buffer from each allocator to make Netty look.
 * Reports that appear between tests (a class's {@code @AfterAll} closing a gateway) fail the class.
 * A report can still surface a test late when its buffer survived the GC (held by a thread local or
 * a pool until then): the failure message says so, and the trace names the allocation.
 */
public final class NettyLeakExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    static final String PROPERTY = "io.netty.customResourceLeakDetector";
    private static final String TRACKED_AT_START = "trackedAtStart";
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NettyLeakExtension.class);
    private static final int GC_ROUNDS = 3;
    private static final long ENQUEUE_WAIT_MILLIS = 200;

    /** Reports found between two tests (a late GC) fail the next one rather than go unseen. */
    @Override
    public void beforeAll(ExtensionContext context) {
        start(context, "before " + context.getDisplayName());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        start(context, "between tests, before " + context.getDisplayName());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        check(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check(context);
    }

    private static void start(ExtensionContext context, String when) {
        if (active()) {
            context.getStore(NAMESPACE).put(TRACKED_AT_START, LeakRecorder.tracked());
            failOn(LeakRecorder.drain(), when);
        }
    }

    /** A test that made Netty track nothing gets no GC: most unit tests never touch a buffer. */
    private static void check(ExtensionContext context) {
        if (!active()) {
            return;
        }
        Long trackedAtStart = context.getStore(NAMESPACE).get(TRACKED_AT_START, Long.class);
        if (trackedAtStart == null || trackedAtStart != LeakRecorder.tracked()) {
            collectAndLook();
        }
        failOn(LeakRecorder.drain(), "during " + context.getDisplayName());
    }

    /**
     * Whether Netty makes its detectors from {@link LeakRecorder}: gateway/pom.xml sets the property
     * for Surefire and Failsafe; a run without it (an IDE ignoring the POM) has nothing to look at.
     */
    static boolean active() {
        return LeakRecorder.class.getName().equals(System.getProperty(PROPERTY));
    }

    /**
     * Collects garbage until a sentinel's weak reference is enqueued (Netty's trackers are weak
     * references, enqueued by the same GC), then tracks fresh buffers so that Netty polls its queue.
     */
    static void collectAndLook() {
        for (int round = 0; round < GC_ROUNDS; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
            System.gc();
            try {
                if (queue.remove(ENQUEUE_WAIT_MILLIS) == sentinel) {
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.directBuffer(1);
        unpooled.release();
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(1);
        pooled.release();
    }

    private static void failOn(List<String> reports, String when) {
        if (reports.isEmpty()) {
            return;
        }
        throw new AssertionError(reports.size() + " Netty leak report(s) " + when
                + " (a report can come one test late: check the allocation trace)\n" + String.join("\n\n", reports));
    }
}
