package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Turns the {@code data} of a publication into the JSON text that is fanned out. On an end-to-end
 * encrypted channel ({@code channels.encrypted}) the data must be the {@link EncryptedEnvelope} and
 * passes through as sent; elsewhere it is validated against its namespace's schema (if one is
 * configured) and sanitised per the namespace's mode. Done once per publication, before fan-out (and
 * before a publish hook sees it). Thread-safe. Made by {@link NamespacePolicies#create}.
 */
public interface PublicationData {
    /**
     * @param channel the channel published to
     * @param namespace its namespace, the part before the first {@code :} ({@code ""} when none)
     * @return the JSON text of the (sanitised) data
     * @throws ProtocolException {@code invalid_message} with the failing JSON path, e.g. {@code $.data.content};
     *     its {@code id()} is null: reply with {@link ProtocolException#withId} and the message's id
     */
    String prepare(String channel, String namespace, JsonNode data);

    /** True when {@code channel}'s data is the encryption envelope: the same data prepares alike for every such channel. */
    boolean encrypted(String channel);
}
