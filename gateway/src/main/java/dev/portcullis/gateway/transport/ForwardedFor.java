package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.config.Cidr;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The client address behind trusted proxies. {@code X-Forwarded-For} is only believed when the
 * connection comes from a trusted proxy, and then read from the right: each trusted hop appended
 * the address it saw, so the rightmost address that is not itself a trusted proxy is the client.
 * Anything to its left was written by the client and is ignored. Malformed entries end the walk
 * (the last trusted hop's peer is used).
 */
final class ForwardedFor {
    private static final String HEADER = "X-Forwarded-For";

    private final List<Cidr> trusted;

    ForwardedFor(List<String> trustedProxies) {
        this.trusted = trustedProxies.stream().map(Cidr::parse).toList();
    }

    boolean enabled() {
        return !trusted.isEmpty();
    }

    boolean trusted(InetAddress address) {
        for (Cidr cidr : trusted) {
            if (cidr.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The client's address given the connection's peer (after PROXY protocol) and the request headers. */
    InetSocketAddress client(InetSocketAddress peer, HttpHeaders headers) {
        if (!trusted(peer.getAddress())) {
            return peer;
        }
        List<String> values = headers.getAll(HEADER);
        InetSocketAddress current = peer;
        for (int v = values.size() - 1; v >= 0; v--) {
            String[] hops = values.get(v).split(",");
            for (int i = hops.length - 1; i >= 0; i--) {
                InetAddress hop = literal(hops[i].trim());
                if (hop == null) {
                    return current;
                }
                current = new InetSocketAddress(hop, 0);
                if (!trusted(hop)) {
                    return current;
                }
            }
        }
        return current;
    }

    /** A literal IPv4 or IPv6 address (IPv6 possibly in brackets), never a DNS lookup; null otherwise. */
    private static InetAddress literal(String text) {
        String address = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        boolean looksLiteral = !address.isEmpty()
                && (address.indexOf(':') >= 0 ? address.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)
                        : address.chars().allMatch(c -> c == '.' || Character.isDigit(c)));
        if (!looksLiteral) {
            return null;
        }
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
