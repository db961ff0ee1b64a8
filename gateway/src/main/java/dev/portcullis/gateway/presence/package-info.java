/**
 * Channel presence: who is subscribed to a channel now, listed on request, and {@code join} /
 * {@code leave} events to a channel's subscribers. Not to be confused with the per-user connection
 * registry of the cluster package ({@code RedisPresence}), which serves "newest connection wins"
 * and {@code GET /api/connections}.
 */
package dev.portcullis.gateway.presence;
