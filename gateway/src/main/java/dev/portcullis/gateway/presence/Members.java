package dev.portcullis.gateway.presence;

import java.util.List;

/**
 * A channel's members as listed for one request: at most {@link Presence#MAX_MEMBERS};
 * {@code complete} is false when there were more, or when only some instances could be asked.
 */
public record Members(List<Member> members, boolean complete) {
    public Members {
        members = List.copyOf(members);
    }
}
