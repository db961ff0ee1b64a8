/**
 * Admission of new connections, checked before a WebSocket upgrade in this order:
 * {@link dev.portcullis.gateway.admission.ConnectionSlots} (global cap, then per-IP cap), token
 * verification (in {@code auth}), {@link dev.portcullis.gateway.admission.ConnectAttemptLimiter}
 * (per-user handshake rate), {@link dev.portcullis.gateway.admission.UserConnections} (per-user
 * concurrent connections, newest wins).
 *
 * <p>Everything here is thread-safe, does no I/O and never waits, so it may be called from Netty
 * event loops. Memory tracks only live connections and recently seen users. A limit of 0 means
 * unlimited.
 */
package dev.portcullis.gateway.admission;
