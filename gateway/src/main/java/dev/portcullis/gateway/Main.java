package dev.portcullis.gateway;

import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.AdminConfig;
import dev.portcullis.gateway.config.ConfigException;
import dev.portcullis.gateway.config.ConfigKeys;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.config.TlsConfig;
import dev.portcullis.gateway.transport.DevSite;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code portcullis} command line: {@code serve}, {@code token}, {@code check-config}. */
@Command(
        name = "portcullis",
        mixinStandardHelpOptions = true,
        version = "portcullis 0.1.0",
        description = "A hardened real-time WebSocket gateway.",
        subcommands = {Main.Serve.class, Main.Token.class, Main.CheckConfig.class, Main.Healthcheck.class, Main.Train.class})
public final class Main {
    static final int CONFIG_ERROR = 2;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    /** YAML file from --config, else PORTCULLIS_CONFIG, else none. */
    static Path configFile(Path option) {
        if (option != null) {
            return option;
        }
        String fromEnv = System.getenv("PORTCULLIS_CONFIG");
        return fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv);
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the gateway until SIGTERM or SIGINT.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--config", description = "YAML configuration file (default: $PORTCULLIS_CONFIG).")
        Path config;

        @Option(names = "--dev", description = "Embedded dev mode: a secret and an API key kept in " + DevMode.STATE_FILE
                + " when none is set, a dev token, the chat example on the public port.")
        boolean dev;

        @Option(names = "--dev-user", defaultValue = "dev-user", description = "Subject of the printed dev token (default: ${DEFAULT-VALUE}).")
        String devUser;

        @Override
        public Integer call() throws InterruptedException {
            Map<String, Object> overrides = new LinkedHashMap<>();
            Path file = configFile(config);
            GatewayConfig loaded;
            try {
                if (dev) {
                    DevMode.fillIn(file, overrides, Path.of(""));
                }
                loaded = ConfigLoader.load(file, System.getenv(), overrides);
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return CONFIG_ERROR;
            }
            LogSetup.apply(loaded.log());
            CountDownLatch stopRequested = Signals.install(); // before start: a signal during start-up still drains
            DevSite site = DevMode.site(Path.of(""));
            Gateway gateway;
            try {
                Gateway.validate(loaded); // the same check as check-config, before anything binds
                gateway = Gateway.serve(loaded, dev ? site : null);
            } catch (IllegalArgumentException | IllegalStateException e) {
                System.err.println("cannot start: " + e.getMessage());
                return CONFIG_ERROR;
            }
            if (dev) {
                DevMode.printBanner(loaded, gateway, devUser, site);
            }
            Signals.onHangup(() -> gateway.reloadTls("SIGHUP"));
            stopRequested.await();
            Signals.ignoreHangup();
            gateway.close();
            return 0;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true, description = "Mint an HS256 token (for development and tests).")
    static final class Token implements Callable<Integer> {
        @Option(names = "--secret", description = "HMAC secret (default: auth.hmac-secret from --config or the environment).")
        String secret;

        @Option(names = "--config", description = "YAML configuration file to read auth.hmac-secret from.")
        Path config;

        @Option(names = "--sub", required = true, description = "Subject (user id).")
        String subject;

        @Option(names = "--ttl", defaultValue = "1h", description = "Lifetime such as 15m or 1h (default: ${DEFAULT-VALUE}).")
        String ttl;

        @Option(names = "--claim", description = "Extra claim name=value (repeatable); a value that is a JSON object, array,"
                + " number, boolean or null is stored as such, anything else as a string: --claim 'channels={\"room:42\":\"rw\"}'.")
        Map<String, String> claims = new LinkedHashMap<>();

        @Override
        public Integer call() {
            String key = secret;
            Duration lifetime;
            try {
                if (key == null) {
                    key = configuredSecret(configFile(config), Path.of(DevMode.STATE_FILE));
                }
                lifetime = ConfigLoader.parseDuration(ttl);
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return CONFIG_ERROR;
            } catch (IllegalArgumentException e) {
                System.err.println("--ttl " + e.getMessage());
                return CONFIG_ERROR;
            }
            if (key == null || key.length() < 32) {
                System.err.println("token: an HMAC secret of at least 32 bytes is required (--secret, auth.hmac-secret,"
                        + " or the " + DevMode.STATE_FILE + " of ./portcullis dev in this directory)");
                return CONFIG_ERROR;
            }
            Map<String, Object> extra;
            try {
                extra = claimValues(claims);
            } catch (IllegalArgumentException e) {
                System.err.println(e.getMessage());
                return CONFIG_ERROR;
            }
            System.out.println(TokenMinter.hs256(key, subject, Instant.now(), lifetime, extra));
            return 0;
        }
    }

    /**
     * The secret {@code token} signs with when {@code --secret} is not given: {@code auth.hmac-secret}
     * from the configuration, else, when no key source is configured at all, the one
     * {@code ./portcullis dev} keeps in {@code devState}, so that dev tokens need no copy-pasting.
     */
    static String configuredSecret(Path file, Path devState) {
        try {
            return ConfigLoader.load(file, System.getenv(), Map.of()).auth().hmacSecret();
        } catch (ConfigException e) {
            boolean onlyAuthMissing = e.problems().stream().allMatch(p -> p.startsWith("auth: set one of"));
            if (onlyAuthMissing && java.nio.file.Files.isRegularFile(devState)) {
                return DevMode.state(devState).hmacSecret();
            }
            throw e;
        }
    }

    /**
     * Claim values as the shell gave them: JSON where the text is a JSON value other than a string
     * ({@code {"room:42":"rw"}}, {@code [1,2]}, {@code 3}, {@code true}), the text itself otherwise.
     * A quoted JSON string ({@code "3"}) is the string inside the quotes.
     */
    static Map<String, Object> claimValues(Map<String, String> raw) {
        Map<String, Object> values = new LinkedHashMap<>();
        raw.forEach((name, text) -> values.put(name, claimValue(text)));
        return values;
    }

    private static Object claimValue(String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return text;
        }
        char first = trimmed.charAt(0);
        boolean looksJson = first == '{' || first == '[' || first == '"' || first == '-' || Character.isDigit(first)
                || trimmed.equals("true") || trimmed.equals("false") || trimmed.equals("null");
        if (!looksJson) {
            return text;
        }
        try {
            return CLAIM_JSON.readValue(trimmed, Object.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            if (first == '{' || first == '[') {
                throw new IllegalArgumentException("--claim: not valid JSON: " + trimmed + " (" + e.getOriginalMessage() + ")");
            }
            return text; // e.g. 2024-01-01 or -x: a plain string
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper CLAIM_JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    @Command(name = "healthcheck", mixinStandardHelpOptions = true,
            description = "Exit 0 when the gateway on this machine answers its readiness check, 1 otherwise (a container HEALTHCHECK without curl).")
    static final class Healthcheck implements Callable<Integer> {
        @Option(names = "--url", description = "Default: http(s)://127.0.0.1:<admin.port>/readyz, the port and TLS from --config or the environment.")
        String url;

        @Option(names = "--config", description = "YAML configuration file to read admin.port and admin.tls from (default: $PORTCULLIS_CONFIG).")
        Path config;

        @Option(names = "--timeout", defaultValue = "3s", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
        String timeout;

        @Option(names = "--client-cert", description = "PEM client certificate to present when admin.tls.client-ca asks for one.")
        Path clientCert;

        @Option(names = "--client-key", description = "PEM (PKCS#8) private key of --client-cert.")
        Path clientKey;

        @Override
        public Integer call() {
            java.net.URI target;
            Duration limit;
            javax.net.ssl.SSLContext tls = null;
            try {
                limit = ConfigLoader.parseDuration(timeout);
                if ((clientCert == null) != (clientKey == null)) {
                    throw new IllegalArgumentException("--client-cert and --client-key go together");
                }
                AdminTarget admin = adminTarget(configFile(config));
                if (admin.tls().enabled()) {
                    // Trusts the certificate in admin.tls.cert itself; 127.0.0.1 is not the name it carries.
                    tls = dev.portcullis.gateway.transport.AdminTlsClient.context(admin.tls(), clientCert, clientKey);
                }
                target = java.net.URI.create(url != null ? url
                        : (tls != null ? "https" : "http") + "://127.0.0.1:" + admin.port() + "/readyz");
            } catch (RuntimeException e) {
                System.err.println("healthcheck: " + e.getMessage());
                return 1;
            }
            var builder = java.net.http.HttpClient.newBuilder().connectTimeout(limit);
            if (tls != null) {
                builder.sslContext(tls);
            }
            try (var http = builder.build()) {
                var response = http.send(java.net.http.HttpRequest.newBuilder(target).timeout(limit).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return 0;
                }
                System.err.println("healthcheck: " + target + " answered " + response.statusCode() + " " + response.body());
                return 1;
            } catch (java.io.IOException e) {
                System.err.println("healthcheck: " + target + ": " + e);
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }

        private record AdminTarget(int port, TlsConfig tls) {}

        /**
         * admin.port and admin.tls as the gateway would read them; when the rest of the configuration
         * is incomplete, admin.port from the environment (or the default) and no TLS.
         */
        private static AdminTarget adminTarget(Path file) {
            try {
                AdminConfig admin = ConfigLoader.load(file, System.getenv(), Map.of()).admin();
                return new AdminTarget(admin.port(), admin.tls());
            } catch (ConfigException e) {
                String fromEnv = System.getenv("PORTCULLIS_ADMIN_PORT");
                return new AdminTarget(fromEnv != null ? Integer.parseInt(fromEnv.trim()) : 9090, TlsConfig.DISABLED);
            }
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, description = {
        "The AOT cache's training run (JDK 25+): java -XX:AOTCacheOutput=portcullis.aot -jar portcullis.jar train drives the"
                + " warm-up's traffic (handshakes, subscribe, publish, fan-out, re-auth, backend API) against a throwaway gateway"
                + " on loopback for --duration and exits; the JVM then writes the cache, which serve uses with -XX:AOTCache=.",
        "./portcullis build and the container image do this. Exit 0 when the traffic ran, 1 when it could not."})
    static final class Train implements Callable<Integer> {
        @Option(names = "--duration", defaultValue = "20s", description = "How long to drive traffic (default: ${DEFAULT-VALUE}).")
        String duration;

        @Override
        public Integer call() {
            Duration length;
            try {
                length = ConfigLoader.parseDuration(duration);
            } catch (IllegalArgumentException e) {
                System.err.println("--duration " + e.getMessage());
                return CONFIG_ERROR;
            }
            var result = Warmup.run(length, false, null);
            return result != null && result.handshakes() > 0 ? 0 : 1;
        }
    }

    @Command(name = "check-config", mixinStandardHelpOptions = true, description = "Validate a configuration and exit (0 valid, 2 invalid).")
    static final class CheckConfig implements Callable<Integer> {
        @Option(names = "--config", description = "YAML configuration file (default: $PORTCULLIS_CONFIG).")
        Path config;

        @Option(names = "--keys", description = "Print every key with its default and meaning as a Markdown table.")
        boolean keys;

        @Override
        public Integer call() {
            PrintWriter out = new PrintWriter(System.out, true);
            if (keys) {
                out.println("| key | environment | default | meaning |");
                out.println("|---|---|---|---|");
                for (ConfigKeys.Key key : ConfigKeys.ALL) {
                    out.printf("| `%s` | `%s` | %s | %s |%n", key.name(), key.envName(),
                            key.defaultValue().isEmpty() ? "" : "`" + key.defaultValue() + "`", key.meaning());
                }
                return 0;
            }
            try {
                GatewayConfig loaded = ConfigLoader.load(configFile(config), System.getenv(), Map.of());
                try {
                    Gateway.validate(loaded); // what serve builds before it binds: keys, TLS, schemas
                } catch (IllegalArgumentException | IllegalStateException e) {
                    System.err.println("invalid configuration:\n  " + e.getMessage());
                    return CONFIG_ERROR;
                }
                out.println("configuration is valid");
                for (Object section : List.of(loaded.server(), loaded.admin(), loaded.auth(), loaded.channels(), loaded.broker(), loaded.limits(),
                        loaded.heartbeat(), loaded.shutdown(), loaded.alerts(), loaded.log())) {
                    out.println("  " + section);
                }
                return 0;
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return CONFIG_ERROR;
            }
        }
    }
}
