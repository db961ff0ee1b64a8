package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.portcullis.gateway.config.LogConfig;
import org.junit.jupiter.api.Test;

/** {@code log.level} debug or trace opens the gateway's own loggers, never the Redis client's wire lines (they carry data). */
class LogSetupTest {
    @Test
    void theRedisClientStaysAtInfoWhenTheGatewayLogsEverything() {
        for (String level : new String[] {"trace", "debug"}) {
            LoggerContext context = new LoggerContext();
            LogSetup.apply(context, new LogConfig("text", level));
            assertThat(context.getLogger("dev.portcullis.gateway.session.ClientPublications").getEffectiveLevel())
                    .isEqualTo(Level.toLevel(level));
            for (String lettuce : new String[] {"io.lettuce.core.protocol.CommandHandler", "io.lettuce.core.protocol.CommandEncoder",
                    "io.lettuce.core.pubsub.PubSubCommandHandler", "io.lettuce.core.RedisStateMachine"}) {
                assertThat(context.getLogger(lettuce).getEffectiveLevel()).as(lettuce).isEqualTo(Level.INFO);
            }
            context.stop();
        }
    }

    @Test
    void aQuieterRootLevelStaysQuieterForTheRedisClientToo() {
        LoggerContext context = new LoggerContext();
        LogSetup.apply(context, new LogConfig("text", "warn"));
        assertThat(context.getLogger("io.lettuce.core.protocol.CommandHandler").getEffectiveLevel()).isEqualTo(Level.WARN);
        context.stop();
    }
}
