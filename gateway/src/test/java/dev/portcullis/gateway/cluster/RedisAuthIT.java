package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Redis with an ACL user and no default user: the URL's credentials are used, and wrong ones stop start-up naming the key. */
class RedisAuthIT {

    @Test
    void anAclUserFromTheUrlIsUsedAndBadCredentialsStopStartUp() {
        try (RedisServer redis = RedisServer.start("--user", "default", "off",
                "--user", "portcullis", "on", ">s3cret-pass", "~*", "&*", "+@all")) {
            String url = "redis://portcullis:s3cret-pass@127.0.0.1:" + redis.port();
            try (TestGateway gateway = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", url,
                    "channels.auto-subscribe", List.of("alerts")))) {
                WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("acl-user")));
                client.awaitMessage("connected");
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    gateway.publish("alerts", "{\"via\":\"acl\"}");
                    return client.pollMessage("message", Duration.ofMillis(100)) != null;
                });
                client.close();
            }
            String wrong = "redis://portcullis:wrong@127.0.0.1:" + redis.port();
            assertThatThrownBy(() -> TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", wrong)))
                    .hasMessageContaining("broker.redis-url")
                    .hasMessageNotContaining("wrong"); // the password never shows
            assertThat(redis.port()).isPositive();
        }
    }
}
