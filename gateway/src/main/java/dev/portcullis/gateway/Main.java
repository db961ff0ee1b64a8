package dev.portcullis.gateway;

import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigException;
import dev.portcullis.gateway.config.ConfigKeys;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
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
        subcommands = {Main.Serve.class, Main.Token.class, Main.CheckConfig.class})
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

        @Option(names = "--dev", description = "Embedded dev mode: generate a secret and an API key when none is set, print a dev token.")
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
                    DevMode.fillIn(file, overrides);
                }
                loaded = ConfigLoader.load(file, System.getenv(), overrides);
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return CONFIG_ERROR;
            }
            LogSetup.apply(loaded.log());
            CountDownLatch stopRequested = Signals.install(); // before start: a signal during start-up still drains
            Gateway gateway;
            try {
                gateway = Gateway.start(loaded);
            } catch (IllegalArgumentException | IllegalStateException e) {
                System.err.println("cannot start: " + e.getMessage());
                return CONFIG_ERROR;
            }
            if (dev) {
                DevMode.printBanner(loaded, gateway, devUser);
            }
            stopRequested.await();
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

        @Option(names = "--claim", description = "Extra claim name=value (repeatable).")
        Map<String, String> claims = new LinkedHashMap<>();

        @Override
        public Integer call() {
            String key = secret;
            Duration lifetime;
            try {
                if (key == null) {
                    key = ConfigLoader.load(configFile(config), System.getenv(), Map.of()).auth().hmacSecret();
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
                System.err.println("token: an HMAC secret of at least 32 bytes is required (--secret or auth.hmac-secret)");
                return CONFIG_ERROR;
            }
            System.out.println(TokenMinter.hs256(key, subject, Instant.now(), lifetime, new LinkedHashMap<>(claims)));
            return 0;
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

    /** Dev mode: what to generate and what to print. */
    static final class DevMode {
        private DevMode() {}

        static void fillIn(Path file, Map<String, Object> overrides) {
            GatewayConfig probe = null;
            try {
                probe = ConfigLoader.load(file, System.getenv(), Map.of());
            } catch (ConfigException e) {
                boolean onlyAuthMissing = e.problems().stream().allMatch(p -> p.startsWith("auth: set one of"));
                if (!onlyAuthMissing) {
                    throw e;
                }
            }
            if (probe == null) {
                overrides.put("auth.hmac-secret", randomKey());
            }
            if (!System.getenv().containsKey("PORTCULLIS_SERVER_HOST") && (probe == null || probe.server().host().equals("0.0.0.0"))) {
                overrides.put("server.host", "127.0.0.1"); // a dev gateway with a printed secret stays on this machine
            }
            if (probe == null || probe.admin().apiKeys().isEmpty()) {
                overrides.put("admin.api-keys", List.of(randomKey()));
            }
        }

        static void printBanner(GatewayConfig config, Gateway gateway, String user) {
            String secret = config.auth().hmacSecret();
            String url = (config.server().tls().enabled() ? "wss" : "ws") + "://localhost:" + gateway.port() + config.server().path();
            String admin = "http://127.0.0.1:" + gateway.adminPort();
            StringBuilder banner = new StringBuilder("\n=== Portcullis dev mode (generated secrets: not for production) ===\n");
            if (secret != null) {
                String token = TokenMinter.hs256(secret, user, Instant.now(), Duration.ofHours(1), Map.of());
                banner.append("WebSocket URL : ").append(url).append('\n')
                        .append("Dev token     : ").append(token).append("  (user \"").append(user).append("\", valid 1h)\n\n")
                        .append("Connect (browser console or Node 22+):\n")
                        .append("  const ws = new WebSocket(\"").append(url).append("?token=").append(token).append("\");\n")
                        .append("  ws.onmessage = (e) => console.log(e.data);\n")
                        .append("  ws.onopen = () => ws.send(JSON.stringify({ type: \"ping\" }));\n\n")
                        .append("More tokens   : java -jar gateway/target/portcullis.jar token --secret ").append(secret)
                        .append(" --sub alice\n");
            } else {
                banner.append("WebSocket URL : ").append(url).append(" (tokens come from your configured key source)\n");
            }
            String apiKey = config.admin().apiKeys().isEmpty() ? "<api key>" : config.admin().apiKeys().get(0);
            banner.append("Publish to the dev user's personal channel (it is subscribed at connect):\n")
                    .append("  curl -H 'Authorization: Bearer ").append(apiKey).append("' -H 'Content-Type: application/json' \\\n")
                    .append("       -d '{\"channel\":\"user:").append(user).append("\",\"data\":{\"text\":\"hello\"}}' ")
                    .append(admin).append("/api/publish\n\n")
                    .append("Metrics       : curl ").append(admin).append("/metrics\n")
                    .append("Health        : curl ").append(admin).append("/readyz\n")
                    .append("Stop with Ctrl-C (graceful: clients get close 1001).\n");
            System.out.println(banner);
            System.out.flush();
        }

        private static String randomKey() {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        }
    }
}
