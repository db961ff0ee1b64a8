package dev.portcullis.gateway;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.portcullis.gateway.config.LogConfig;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code log.format} and {@code log.level} once the configuration is known: plain text
 * lines, or one JSON object per line (Logstash layout: timestamp, level, logger, message, and MDC
 * fields such as {@code conn}). Tokens and publication data never reach a log line in the first
 * place; this only shapes what does (and keeps the Redis client's wire-level lines, which would hold
 * data, out at every level).
 */
final class LogSetup {
    private LogSetup() {}

    static void apply(LogConfig config) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            apply(context, config);
        }
    }

    static void apply(LoggerContext context, LogConfig config) {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        Encoder<ILoggingEvent> encoder = config.json() ? jsonEncoder(context) : textEncoder(context);
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setEncoder(encoder);
        console.start();
        root.addAppender(console);
        root.setLevel(Level.toLevel(config.level(), Level.INFO));
        context.getLogger("io.netty").setLevel(Level.INFO);
        // Lettuce warns once per connection and reconnect streak ("Cannot reconnect to ..."), and
        // its topology refresh once per unreachable node and refresh: during a cluster failover that
        // is hundreds of lines. The broker logs each node going down and coming back once instead.
        context.getLogger("io.lettuce.core.protocol.ConnectionWatchdog").setLevel(Level.ERROR);
        context.getLogger("io.lettuce.core.cluster.topology").setLevel(Level.ERROR);
        // Lettuce's debug and trace lines carry Redis commands and replies, publication data among
        // them (ciphertext of encrypted channels, plaintext of the others): log.level debug or trace
        // is for the gateway's own loggers, and never makes the gateway log data.
        if (!root.getLevel().isGreaterOrEqual(Level.INFO)) {
            context.getLogger("io.lettuce").setLevel(Level.INFO);
        }
    }

    private static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} %replace(conn=%X{conn} ){'^conn= $', ''}- %msg%n");
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }
}
