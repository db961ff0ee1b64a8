package dev.portcullis.gateway.testing;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The resource leak detector of the test JVMs, installed by Netty itself through
 * {@code -Dio.netty.customResourceLeakDetector} (gateway/pom.xml) so that it is in place before the
 * first {@code ByteBuf} class loads. It logs a leak as Netty's own does ({@code LEAK: ...}) and also
 * keeps the report for {@link NettyLeakExtension}, which fails the test during which it appeared.
 *
 * <p>Netty reports a leak when it finds a tracked object collected unreleased, on a later
 * {@link #track} call of the same detector; it reports identical traces once per detector. Called
 * from any thread.
 */
public final class LeakRecorder<T> extends ResourceLeakDetector<T> {
    private static final ConcurrentLinkedQueue<String> REPORTS = new ConcurrentLinkedQueue<>();
    private static final AtomicLong TRACKED = new AtomicLong();

    /** The constructor Netty's {@code DefaultResourceLeakDetectorFactory} calls. */
    public LeakRecorder(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    /** The factory looks for this older form first, and logs an error when it is missing; maxActive is unused by Netty. */
    public LeakRecorder(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** How many objects were tracked so far: unchanged over a test means Netty tracked nothing in it. */
    static long tracked() {
        return TRACKED.get();
    }

    /** The reports since the last call, oldest first. */
    static List<String> drain() {
        List<String> reports = new ArrayList<>();
        for (String report; (report = REPORTS.poll()) != null; ) {
            reports.add(report);
        }
        return reports;
    }

    @Override
    public ResourceLeakTracker<T> track(T obj) {
        TRACKED.incrementAndGet();
        return super.track(obj);
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected." + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                + " (no access records: run with -Dio.netty.leakDetection.level=paranoid)");
        super.reportUntracedLeak(resourceType);
    }
}
