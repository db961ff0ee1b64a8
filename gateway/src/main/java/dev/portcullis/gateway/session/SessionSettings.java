package dev.portcullis.gateway.session;

import java.time.Duration;

/**
 * What every session of one gateway shares from the configuration.
 *
 * @param reauthInterval how often a fresh token is requested; zero for never
 * @param reauthGrace how long the client has to answer
 * @param clockSkew added to the token's {@code exp} before the connection is closed for expiry
 * @param protocolViolations tolerated bad messages per window; 0 tolerates any number
 * @param protocolViolationWindow the window
 */
public record SessionSettings(
        Duration reauthInterval,
        Duration reauthGrace,
        Duration clockSkew,
        int protocolViolations,
        Duration protocolViolationWindow) {}
