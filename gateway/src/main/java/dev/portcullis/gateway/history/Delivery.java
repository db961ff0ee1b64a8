package dev.portcullis.gateway.history;

/**
 * What becomes of a publication once {@link MemoryHistory#append} has given it its offset: the
 * local broker encodes it and fans it out.
 *
 * <p>Threading: {@link #prepare} runs on the publisher's thread, outside every lock, and may run
 * concurrently for several publications of one channel (encoding is the expensive part, so it is
 * done in parallel). The {@link Runnable} it returns is run later, in offset order per channel and
 * never two at a time for one channel, on the thread of whichever publisher of the channel is
 * handing off at that moment: it must be short and must not block (queue the work, do not write
 * to sockets).
 */
@FunctionalInterface
public interface Delivery {
    /** Delivers nothing: a history that only keeps publications (tests, benchmarks). */
    Delivery NONE = (channel, position, dataJson) -> () -> {};

    /** @return the hand-off of this publication, run in offset order */
    Runnable prepare(String channel, Position position, String dataJson);
}
