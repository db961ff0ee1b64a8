package dev.portcullis.bench.load;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * One gateway URL ({@code ws://} or {@code wss://}, or for the admin API {@code http(s)://}),
 * resolved once.
 *
 * @param pathAndQuery what goes on the request line, e.g. {@code /ws} or {@code /ws?recover=...}
 * @param hostHeader the {@code Host} header value
 */
record Target(String url, boolean tls, InetSocketAddress address, String pathAndQuery, String hostHeader) {

    /** Parses and resolves {@code url}; {@code schemes} are the plain and the TLS scheme, e.g. ws and wss. */
    static Target parse(String url, String plain, String secure) {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad URL '" + url + "': " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals(plain) && !scheme.equals(secure)) {
            throw new IllegalArgumentException("bad URL '" + url + "': the scheme must be " + plain + ":// or " + secure + "://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("bad URL '" + url + "': no host (expected e.g. " + plain + "://127.0.0.1:8080"
                    + (plain.equals("ws") ? "/ws" : "") + ")");
        }
        boolean tls = scheme.equals(secure);
        int port = uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
        InetAddress address;
        try {
            address = InetAddress.getByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad URL '" + url + "': unknown host " + uri.getHost());
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String pathAndQuery = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        String hostHeader = uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
        return new Target(url, tls, new InetSocketAddress(address, port), pathAndQuery, hostHeader);
    }

    boolean loopback() {
        return address.getAddress().isLoopbackAddress();
    }
}
