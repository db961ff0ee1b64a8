package example;

import dev.portcullis.client.Connected;
import dev.portcullis.client.Message;
import dev.portcullis.client.PortcullisClient;
import dev.portcullis.client.SubscriptionListener;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Connects with the token it is given, subscribes to its channel, and prints the first publication. */
public final class Consumer {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        String token = args[1];
        String channel = args[2];
        CompletableFuture<String> first = new CompletableFuture<>();
        try (PortcullisClient client = PortcullisClient.builder(uri).token(() -> token).build()) {
            Connected connected = client.connect().get(10, TimeUnit.SECONDS);
            System.out.println("connected as " + connected.user());
            client.subscribe(channel, new SubscriptionListener() {
                @Override
                public void onMessage(Message message) {
                    first.complete(message.data().toString());
                }
            }).subscribed().get(10, TimeUnit.SECONDS); // the script publishes once this line is printed
            System.out.println("subscribed");
            System.out.println("received " + first.get(20, TimeUnit.SECONDS));
        }
    }
}
