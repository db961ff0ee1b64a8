package dev.portcullis.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Java client as a separate process for the cross-client test of encrypted channels
 * (clients/js/e2e/interop.test.mjs): a page in Chromium with the JS client and this program share
 * one encrypted channel of a real gateway, and each must decrypt what the other published.
 *
 * <p>{@code EncryptedPeer <ws-url> <token> <channel> <kid> <base64url key>}. Each line on stdin is
 * the JSON data of one publication into the channel; stdout gets one JSON line per event:
 * {@code subscribed}, {@code published} (with its offset), {@code message} (the decrypted data and
 * its offset), {@code decrypt_failed}, {@code error}. It exits when stdin closes. Test code, not part
 * of the client's API: it is run from the client module's test classpath.
 */
final class EncryptedPeer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EncryptedPeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: EncryptedPeer <ws-url> <token> <channel> <kid> <base64url key>");
            System.exit(2);
        }
        String channel = args[2];
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        MapKeys keys = new MapKeys(args[3], Map.of(args[3], Base64.getUrlDecoder().decode(args[4])));
        try (PortcullisClient client = PortcullisClient.builder(URI.create(args[0])).token(() -> args[1])
                .encryption(List.of(channel), keys).build()) {
            client.connect();
            Subscription subscription = client.subscribe(channel, new SubscriptionListener() {
                @Override
                public void onMessage(Message message) {
                    ObjectNode line = event("message").put("offset", message.offset());
                    line.set("data", message.data());
                    print(out, line);
                }

                @Override
                public void onDecryptFailed(DecryptFailure failure) {
                    print(out, event("decrypt_failed").put("offset", failure.offset()).put("reason", failure.reason()));
                }
            });
            subscription.subscribed().get(20, TimeUnit.SECONDS);
            print(out, event("subscribed"));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    long offset = client.publish(channel, line).get(20, TimeUnit.SECONDS);
                    print(out, event("published").put("offset", offset));
                } catch (Exception e) {
                    print(out, event("error").put("message", String.valueOf(e.getCause() == null ? e : e.getCause())));
                }
            }
        }
    }

    private static ObjectNode event(String type) {
        return JSON.createObjectNode().put("event", type);
    }

    /** One line per event; PrintStream serialises the client thread's lines and the main thread's. */
    private static void print(PrintStream out, ObjectNode event) {
        out.println(event.toString());
    }
}
