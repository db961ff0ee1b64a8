package dev.portcullis.gateway.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Records what the named loggers log, down to {@code level}, while open; closing restores their
 * levels. For tests that show something is never logged (publication data, tokens): they lower the
 * level to TRACE so that even debug paths are covered, which a production log level would hide.
 */
public final class LogCapture implements AutoCloseable {
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Map<Logger, Level> previous = new LinkedHashMap<>();

    private LogCapture(Level level, String... loggers) {
        events.start();
        for (String name : loggers) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            previous.put(logger, logger.getLevel());
            logger.setLevel(level);
            logger.addAppender(events);
        }
    }

    /** Everything {@code loggers} (and the loggers below them) log at {@code level} and above. */
    public static LogCapture of(Level level, String... loggers) {
        return new LogCapture(level, loggers);
    }

    /** Every event so far as text: level, logger, formatted message, MDC and each throwable in the cause chain. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent event : List.copyOf(events.list)) {
            StringBuilder line = new StringBuilder().append(event.getLevel()).append(' ').append(event.getLoggerName()).append(" - ")
                    .append(event.getFormattedMessage()).append(' ').append(event.getMDCPropertyMap());
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
            }
            lines.add(line.toString());
        }
        return lines;
    }

    @Override
    public void close() {
        previous.forEach((logger, level) -> {
            logger.detachAppender(events);
            logger.setLevel(level);
        });
        events.stop();
    }
}
