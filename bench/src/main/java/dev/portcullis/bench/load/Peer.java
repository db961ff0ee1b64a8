package dev.portcullis.bench.load;

import java.util.Locale;
import picocli.CommandLine;

/**
 * The kind of server the generator drives ({@code --target}), and the few places where their
 * protocols differ. One command line measures all three, so their figures come from the same
 * client code, the same sitting and the same counting.
 *
 * <ul>
 *   <li>{@link #PORTCULLIS}: the gateway. Token in an {@code Authorization} header; greets with
 *       {@code connected}; acks {@code subscribe} by its id; every publication carries its channel
 *       offset (loss is counted from offset gaps).
 *   <li>{@link #NODE_WS}: the node-ws peer ({@code ws} + {@code jsonwebtoken} + {@code ajv}). Token in
 *       {@code ?token=}; no greeting, so the subscribe goes right after the upgrade; a subscribe has
 *       no {@code id} (its schema refuses unknown fields) and is answered {@code {"type":"subscribed"}};
 *       publications have no offset, so the publisher numbers them itself ({@code "seq"} in the data)
 *       and answers are {@code 202}.
 *   <li>{@link #FLOOR}: {@code portcullis-bench floor}, the bare writer. The gateway's protocol
 *       (greeting, ack, offsets) without any check, so no token is needed.
 * </ul>
 */
enum Peer {
    PORTCULLIS,
    NODE_WS,
    FLOOR;

    /** The key of the sequence number a subscriber counts loss by: the gateway's offset, or the publisher's own. */
    private static final byte[] SEQ = Scan.ascii("\"seq\":");

    /** {@code --target} as written: portcullis, node-ws, floor. */
    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The token goes into the URL ({@code ?token=}) rather than an {@code Authorization} header. */
    boolean tokenInQuery() {
        return this == NODE_WS;
    }

    /** The server sends a first message ({@code connected}) after the upgrade; without one, the client speaks first. */
    boolean greets() {
        return this != NODE_WS;
    }

    /** {@code subscribe} carries an id and is answered by an {@code ack} with it; node-ws answers {@code {"type":"subscribed"}}. */
    boolean acksSubscribeById() {
        return this != NODE_WS;
    }

    /** The server checks a token on the upgrade (the floor checks nothing). */
    boolean needsToken() {
        return this != FLOOR;
    }

    /** The server numbers publications itself (channel offsets); otherwise the publisher writes {@code "seq":N} into the data. */
    boolean numbersPublications() {
        return this != NODE_WS;
    }

    /** The JSON key, with its colon, of the number subscribers count gaps by. */
    byte[] sequenceKey() {
        return numbersPublications() ? Scan.OFFSET : SEQ;
    }

    /** The subscribe message for {@code channel}; the gateway's and the floor's are acked by the id {@code s}. */
    byte[] subscribeMessage(String channel) {
        return Scan.ascii(acksSubscribeById()
                ? "{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}"
                : "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
    }

    /** The request target of the upgrade: {@code pathAndQuery}, with the token in the query where this peer wants it. */
    String requestTarget(String pathAndQuery, String token) {
        if (token == null || !tokenInQuery()) {
            return pathAndQuery;
        }
        return pathAndQuery + (pathAndQuery.indexOf('?') < 0 ? '?' : '&') + "token=" + token; // a JWT is URL-safe as it is
    }

    static Peer parse(String text) {
        for (Peer p : values()) {
            if (p.label().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new CommandLine.TypeConversionException("'" + text + "' is not a target: portcullis, node-ws or floor");
    }

    static final class Converter implements CommandLine.ITypeConverter<Peer> {
        @Override
        public Peer convert(String value) {
            return parse(value);
        }
    }
}
