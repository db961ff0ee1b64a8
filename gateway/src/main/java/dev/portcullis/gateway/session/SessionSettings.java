package dev.portcullis.gateway.session;

import java.time.Duration;
import java.util.List;

/**
 * What every session of one gateway shares from the configuration.
 *
 * @param reauthInterval how often a fresh token is requested; zero for never
 * @param reauthGrace how long the client has to answer
 * @param clockSkew added to the token's {@code exp} before the connection is closed for expiry
 * @param protocolViolations tolerated bad messages per window; 0 tolerates any number
 * @param protocolViolationWindow the window
 * @param messageRate the inbound message limit
 * @param rateLimitGrace still over the limit this long after the first refusal closes with 4008
 * @param subscriptionsPerConnection 0 for unlimited
 * @param autoSubscribe channels every connection joins at start (besides the personal one)
 * @param autoSubscribePersonal join {@code user:<sub>} at start
 * @param maxConnectionAge zero, or the age after which the connection is asked to reconnect
 */
public record SessionSettings(
        Duration reauthInterval,
        Duration reauthGrace,
        Duration clockSkew,
        int protocolViolations,
        Duration protocolViolationWindow,
        MessageRate messageRate,
        Duration rateLimitGrace,
        int subscriptionsPerConnection,
        List<String> autoSubscribe,
        boolean autoSubscribePersonal,
        Duration maxConnectionAge) {
    public SessionSettings {
        autoSubscribe = List.copyOf(autoSubscribe);
    }
}
