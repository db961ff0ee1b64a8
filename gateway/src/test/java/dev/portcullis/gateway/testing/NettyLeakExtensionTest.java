package dev.portcullis.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The leak extension fails a test that leaks a buffer, and only that one. The leaking tests are
 * nested classes, which Surefire does not run by itself; JUnit's test kit runs them here.
 */
class NettyLeakExtensionTest {

    @Test
    void theLeakDetectorIsOursAndParanoid() {
        assertThat(NettyLeakExtension.active()).as("-D" + NettyLeakExtension.PROPERTY + " (gateway/pom.xml)").isTrue();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        assertThat(ResourceLeakDetectorFactory.instance().newResourceLeakDetector(ByteBuf.class)).isInstanceOf(LeakRecorder.class);
    }

    @Test
    void aTestThatLeaksABufferFailsWithTheLeakReport() {
        EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(Leaking.class))
                .execute()
                .testEvents()
                .assertThatEvents()
                .haveExactly(1, event(test("leaksAnUnpooledDirectBuffer"),
                        finishedWithFailure(instanceOf(AssertionError.class), message(m -> m.contains("LEAK: ByteBuf.release()")
                                && m.contains("leaksAnUnpooledDirectBuffer")))))
                .haveExactly(1, event(test("leaksAPooledBuffer"),
                        finishedWithFailure(instanceOf(AssertionError.class), message(m -> m.contains("LEAK: ByteBuf.release()")
                                && m.contains("leaksAPooledBuffer")))))
                .haveExactly(1, event(test("releasesItsBuffer"), finishedSuccessfully()));
    }

    /** Run only through the test kit above. */
    @ExtendWith(NettyLeakExtension.class)
    static class Leaking {
        @Test
        void leaksAnUnpooledDirectBuffer() {
            ByteBuf leaked = Unpooled.directBuffer(16); // unpooled heap buffers are not tracked: the GC frees them
            leaked.writeInt(1);
        }

        @Test
        void releasesItsBuffer() {
            ByteBuf buffer = Unpooled.directBuffer(16);
            buffer.writeInt(1);
            buffer.release();
        }

        @Test
        void leaksAPooledBuffer() {
            ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(16);
            leaked.writeInt(2);
        }
    }
}
