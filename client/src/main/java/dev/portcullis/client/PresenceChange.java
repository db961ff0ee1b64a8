package dev.portcullis.client;

/**
 * Someone else joined or left a subscribed channel that announces it (the gateway's
 * {@code channels.join-leave}): left means unsubscribed, disconnected, or on a gateway instance that
 * died. Not a publication: no offset, and none are replayed after a reconnect (ask
 * {@link PortcullisClient#presence} again then).
 *
 * @param channel    the channel
 * @param user       the member's user
 * @param connection the member's connection id
 */
public record PresenceChange(String channel, String user, String connection) {}
