package dev.portcullis.client;

/**
 * The server confirmed a subscription, or the client learned that the channel's history changed.
 * Delivered to {@link SubscriptionListener#onSubscribed} before any message that follows it.
 *
 * @param channel   the channel
 * @param offset    the position messages continue from: the next message delivered has a larger
 *                  offset; -1 when the server did not report one
 * @param epoch     the channel's history epoch; null when the server does not report one
 * @param resumed   true when the subscription continues from an earlier position: a resubscription
 *                  after a reconnect, an epoch change seen in a message, or a subscription opened
 *                  with an explicit {@code since}
 * @param recovered true when nothing was lost: the server confirmed that every publication after the
 *                  previous position follows, in order. False on a first subscription (there was
 *                  nothing to recover) and whenever {@code resumed} is true but the gap could not be
 *                  filled: the history no longer covers it or its epoch changed. An application that
 *                  derives state from the messages must reload that state when {@code resumed &&
 *                  !recovered}.
 */
public record Subscribed(String channel, long offset, String epoch, boolean resumed, boolean recovered) {
    /** The position as a {@link Position}, or null when the server reported none. */
    public Position position() {
        return offset < 0 ? null : new Position(offset, epoch);
    }

    /** True when the application must reload the channel's state: a gap may have been lost. */
    public boolean gap() {
        return resumed && !recovered;
    }
}
