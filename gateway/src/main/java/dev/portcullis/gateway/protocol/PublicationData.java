package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Turns the {@code data} of a publication into the JSON text that is fanned out: validated against
 * its namespace's schema (if one is configured) and sanitised per the namespace's mode. Done once
 * per publication, before fan-out. Thread-safe. Made by {@link NamespacePolicies#create}.
 */
public interface PublicationData {
    /**
     * @param namespace the channel's namespace, the part before the first {@code :} ({@code ""} when none)
     * @return the JSON text of the (sanitised) data
     * @throws ProtocolException {@code invalid_message} with the failing JSON path, e.g. {@code $.data.content};
     *     its {@code id()} is null: reply with {@link ProtocolException#withId} and the message's id
     */
    String prepare(String namespace, JsonNode data);
}
