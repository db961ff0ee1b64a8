package dev.portcullis.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run, as the command line asked for it (each scenario command fills in what it uses; the
 * rest keeps its default). Checked and turned into worker plans by {@link Coordinator}.
 */
final class Settings {
    String scenario;
    Peer target = Peer.PORTCULLIS;
    List<String> urls = new ArrayList<>(List.of("ws://127.0.0.1:8080/ws"));
    String sourceAddresses;
    boolean allowRemote;
    boolean insecure;
    /** Offer permessage-deflate; see {@link WorkerPlan#deflate()}. */
    boolean deflate;
    /** Publish {@link Publisher#ALERT_FIELDS} instead of padding. */
    boolean alertPayload;
    int connections;
    int concurrency = 200;
    int processes;
    int maxPerProcess = 19_000;
    int threads = Runtime.getRuntime().availableProcessors();
    Duration connectTimeout = Duration.ofSeconds(10);
    Duration handshakeTimeout = Duration.ofSeconds(10);
    Duration rampTimeout = Duration.ofMinutes(5);
    String secret;
    Path tokensFile;
    int tokensSkip;
    String userPrefix;
    Duration tokenTtl = Duration.ofHours(2);
    Map<String, String> claims = new LinkedHashMap<>();
    String permissionsClaim = "channels";
    List<Long> serverPids = new ArrayList<>();
    Path out;
    String workerJvmOpts;
    boolean inProcess;
    boolean progress = true;
    // connect
    Duration hold = Duration.ofSeconds(10);
    // fanout, churn, inbound, reject
    Duration duration = Duration.ofSeconds(10);
    Duration warmup = Duration.ZERO;
    String channel = "bench";
    boolean autoSubscribe;
    String adminUrl = "http://127.0.0.1:9090";
    String apiKey;
    double rate = 10;
    double deliveryRate;
    int payloadBytes = 100;
    int publishers = 2;
    int window = 32;
    Duration drain = Duration.ofSeconds(10);
    // inbound
    String namespace = "chat";
    int rooms = 100;
    double perConnectionRate;
    int inFlight = 1;
    boolean subscribeRooms;
    // reject
    String badToken = "signature";
    // churn
    double churnRate = 100;
    Duration churnHold = Duration.ZERO;
    int churnConcurrency = 1000;
    List<String> commandLine = List.of();
    String loadAverageAtStart = Report.loadAverage();

    boolean publishes() {
        return scenario.equals("fanout") || scenario.equals("churn");
    }

    /** The options as the result file records them (no secrets). */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", target.label());
        m.put("urls", urls);
        m.put("sourceAddresses", sourceAddresses);
        m.put("connections", connections);
        m.put("concurrency", concurrency);
        m.put("deflate", deflate);
        m.put("processes", processes);
        m.put("threadsPerProcess", threads);
        m.put("tokens", tokensFile != null ? "file" : "minted HS256");
        switch (scenario) {
            case "connect" -> m.put("holdSeconds", hold.toMillis() / 1000.0);
            case "reject" -> {
                m.put("durationSeconds", duration.toMillis() / 1000.0);
                m.put("badToken", badToken);
            }
            case "inbound" -> {
                m.put("durationSeconds", duration.toMillis() / 1000.0);
                m.put("namespace", namespace);
                m.put("rooms", rooms);
                m.put("perConnectionRate", perConnectionRate);
                m.put("inFlight", inFlight);
                m.put("payloadBytes", payloadBytes);
                m.put("subscribeRooms", subscribeRooms);
            }
            default -> {
                m.put("channel", channel);
                m.put("autoSubscribe", autoSubscribe);
                m.put("adminUrl", adminUrl);
                m.put("publicationsPerSecond", rate);
                m.put("deliveriesPerSecondAsked", deliveryRate);
                m.put("durationSeconds", duration.toMillis() / 1000.0);
                m.put("warmupSeconds", warmup.toMillis() / 1000.0);
                m.put("payloadBytes", alertPayload ? "alert" : payloadBytes);
                m.put("publishers", publishers);
                m.put("window", window);
                if (scenario.equals("churn")) {
                    m.put("churnRate", churnRate);
                    m.put("churnHoldSeconds", churnHold.toMillis() / 1000.0);
                }
            }
        }
        return m;
    }
}
