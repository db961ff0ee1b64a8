package dev.portcullis.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigException;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.transport.DevSite;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./portcullis dev}: what to fill in, what to keep, what to serve and what to print.
 *
 * <p>The secret and the API key are generated once and kept in {@value #STATE_FILE} in the working
 * directory (owner-only, git-ignored), so the tokens and curl lines printed by an earlier start keep
 * working after a restart. Settings from a config file or the environment always win over it. The
 * dev token may read and write {@code room:*} and read {@code alerts}, the README's own examples,
 * and the chat example (examples/chat, with the JS client's bundle) is served on the public
 * listener next to the WebSocket path.
 */
final class DevMode {
    static final String STATE_FILE = ".portcullis-dev.json";
    static final Map<String, Object> DEV_CHANNELS = Map.of("room:*", "rw", "alerts", "r");
    static final String DEV_CHANNELS_JSON = "{\"room:*\":\"rw\",\"alerts\":\"r\"}";
    /** The chat example's first room (examples/chat/chat.js). */
    static final String LOBBY = "00000000-0000-4000-8000-000000000042";
    /** The chat example and the JS client's build, relative to the working directory (the repository root). */
    static final List<Path> SITE = List.of(Path.of("examples", "chat"), Path.of("clients", "js", "dist"));
    static final Path CHAT_SCHEMA = Path.of("examples", "chat.schema.json");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private DevMode() {}

    /** The secret and API key of earlier dev starts, created on first use. */
    record State(String hmacSecret, String apiKey) {}

    /**
     * Fills in what a dev start needs and the configuration lacks. {@code directory} holds the state
     * file (the working directory).
     */
    static void fillIn(Path file, Map<String, Object> overrides, Path directory) {
        GatewayConfig probe = null;
        try {
            probe = ConfigLoader.load(file, System.getenv(), Map.of());
        } catch (ConfigException e) {
            boolean onlyAuthMissing = e.problems().stream().allMatch(p -> p.startsWith("auth: set one of"));
            if (!onlyAuthMissing) {
                throw e;
            }
        }
        boolean needSecret = probe == null;
        boolean needKey = probe == null || probe.admin().apiKeys().isEmpty();
        if (needSecret || needKey) {
            State state = state(directory.resolve(STATE_FILE));
            if (needSecret) {
                overrides.put("auth.hmac-secret", state.hmacSecret());
            }
            if (needKey) {
                overrides.put("admin.api-keys", List.of(state.apiKey()));
            }
        }
        if (!System.getenv().containsKey("PORTCULLIS_SERVER_HOST") && (probe == null || probe.server().host().equals("0.0.0.0"))) {
            overrides.put("server.host", "127.0.0.1"); // a dev gateway with a printed secret stays on this machine
        }
        if (!System.getenv().containsKey("PORTCULLIS_SERVER_WARMUP")) {
            overrides.put("server.warmup", "off"); // ready at once: a developer restarts often and has no 10,000 clients waiting
        }
        Path schema = directory.resolve(CHAT_SCHEMA);
        if ((probe == null || probe.channels().schemas().isEmpty()) && !System.getenv().containsKey("PORTCULLIS_CHANNELS_SCHEMAS")
                && Files.isRegularFile(schema)) {
            overrides.put("channels.schemas", List.of("room=" + schema.toAbsolutePath()));
        }
    }

    /**
     * Reads the state file, or creates it with fresh values (owner read/write only). A file others
     * may read is tightened and said so; a file that cannot be read as state is an error naming it.
     */
    static State state(Path path) {
        try {
            if (Files.exists(path)) {
                tighten(path);
                var node = JSON.readTree(path.toFile());
                String secret = node.path("hmacSecret").asText("");
                String key = node.path("apiKey").asText("");
                if (secret.length() < 32 || key.isEmpty()) {
                    throw new ConfigException(List.of(path + ": not a dev state file (delete it to start afresh)"));
                }
                return new State(secret, key);
            }
            State fresh = new State(randomKey(), randomKey());
            ObjectNode node = JSON.createObjectNode().put("hmacSecret", fresh.hmacSecret()).put("apiKey", fresh.apiKey());
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (UnsupportedOperationException e) {
                Files.createFile(path); // not a POSIX file system: the platform's default permissions
            }
            Files.writeString(path, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
            return fresh;
        } catch (FileAlreadyExistsException e) {
            return state(path); // another dev start made it just now
        } catch (IOException e) {
            throw new ConfigException(List.of(path + ": " + e.getMessage() + " (delete it to start afresh)"));
        }
    }

    private static void tighten(Path path) throws IOException {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            if (!OWNER_ONLY.containsAll(permissions)) {
                Files.setPosixFilePermissions(path, OWNER_ONLY);
                System.err.println("portcullis dev: " + path + " was readable by others; now owner-only");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

    /** The roots of the dev site under {@code directory}, whether or not they exist yet. */
    static DevSite site(Path directory) {
        return new DevSite(SITE.stream().map(directory::resolve).toList());
    }

    static void printBanner(GatewayConfig config, Gateway gateway, String user, DevSite site) {
        String secret = config.auth().hmacSecret();
        String host = "localhost:" + gateway.port();
        boolean tls = config.server().tls().enabled();
        String url = (tls ? "wss" : "ws") + "://" + host + config.server().path();
        String admin = (config.admin().tls().enabled() ? "https" : "http") + "://127.0.0.1:" + gateway.adminPort();
        StringBuilder banner = new StringBuilder("\n=== Portcullis dev mode (secrets kept in " + STATE_FILE + ": not for production) ===\n");
        if (secret != null) {
            String token = devToken(secret, user);
            banner.append("WebSocket URL : ").append(url).append('\n')
                    .append("Dev token     : ").append(token).append('\n')
                    .append("                user \"").append(user).append("\", valid 1h, may read and write room:*, read alerts\n");
            if (site.resolve("/") != null && site.resolve("/portcullis.js") != null) {
                banner.append("Chat example  : ").append(tls ? "https" : "http").append("://").append(host).append("/#token=").append(token)
                        .append("\n                (a second user: ./portcullis token --sub bob --claim 'channels=").append(DEV_CHANNELS_JSON)
                        .append("' and the same link with that token, in another browser profile)\n");
            } else {
                banner.append("Chat example  : not served (build the JS client: npm --prefix clients/js ci && npm --prefix clients/js run build)\n");
            }
            banner.append("\nConnect by hand (browser console or Node 22+; the JS client in clients/js also reconnects and recovers):\n")
                    .append("  const token = \"").append(token).append("\";\n")
                    .append("  const ws = new WebSocket(\"").append(url).append("\", [\"portcullis.v1\", \"portcullis.bearer.\" + token]);\n")
                    .append("  ws.onopen = () => ws.send(JSON.stringify({ type: \"subscribe\", id: 1, channel: \"room:42\" }));\n")
                    .append("  ws.onmessage = (e) => {\n")
                    .append("    console.log(e.data);\n")
                    .append("    // every auth.reauth-interval the gateway asks for a token again; unanswered, it closes with 4001\n")
                    .append("    if (JSON.parse(e.data).type === \"reauth\") ws.send(JSON.stringify({ type: \"auth\", token }));\n")
                    .append("  };\n\n")
                    .append("More tokens   : ./portcullis token --sub alice --claim 'channels=").append(DEV_CHANNELS_JSON)
                    .append("'  (signed with the secret in ").append(STATE_FILE).append(")\n");
        } else {
            banner.append("WebSocket URL : ").append(url).append(" (tokens come from your configured key source)\n");
        }
        String apiKey = config.admin().apiKeys().isEmpty() ? "<api key>" : config.admin().apiKeys().get(0);
        banner.append("Publish into the chat example's lobby from the backend API:\n")
                .append("  curl -H 'Authorization: Bearer ").append(apiKey).append("' -H 'Content-Type: application/json' \\\n")
                .append("       -d '{\"channel\":\"room:").append(LOBBY).append("\",\"data\":{\"type\":\"chat\",\"roomId\":\"").append(LOBBY).append("\",")
                .append("\"user\":\"backend\",\"content\":\"hello\"}}' ")
                .append(admin).append("/api/publish\n\n")
                .append("Metrics       : curl ").append(admin).append("/metrics\n")
                .append("Health        : curl ").append(admin).append("/readyz\n")
                .append("Stop with Ctrl-C (graceful: clients get close 1001).\n");
        System.out.println(banner);
        System.out.flush();
    }

    static String devToken(String secret, String user) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("channels", DEV_CHANNELS);
        return TokenMinter.hs256(secret, user, Instant.now(), Duration.ofHours(1), claims);
    }

    private static String randomKey() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
