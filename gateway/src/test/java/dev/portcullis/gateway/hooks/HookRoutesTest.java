package dev.portcullis.gateway.hooks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.config.HooksConfig;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class HookRoutesTest {
    private static final URI ROOMS = URI.create("http://a/rooms");
    private static final URI VIP = URI.create("http://a/vip");
    private static final URI LOBBY = URI.create("http://a/lobby");

    @Test
    void exactWinsThenTheLongestPrefix() {
        HookRoutes routes = new HookRoutes(List.of(
                new HooksConfig.Route("room:*", ROOMS), new HooksConfig.Route("room:vip*", VIP), new HooksConfig.Route("room:vip-lobby", LOBBY)));
        assertThat(routes.find("room:1")).isEqualTo(ROOMS);
        assertThat(routes.find("room:vip-7")).isEqualTo(VIP);
        assertThat(routes.find("room:vip-lobby")).isEqualTo(LOBBY);
        assertThat(routes.find("news:1")).isNull();
        assertThat(routes.find("room")).isNull();
    }

    @Test
    void aSubscribeAnswerIsKeptUntilItExpiresAndTheCacheStaysBounded() {
        DecisionCache cache = new DecisionCache(2);
        HookResult accept = new HookResult.Accepted(null);
        cache.put(DecisionCache.key("alice", "room:1"), accept, 1_000);
        assertThat(cache.get(DecisionCache.key("alice", "room:1"), 999)).isSameAs(accept);
        assertThat(cache.get(DecisionCache.key("bob", "room:1"), 999)).isNull();
        assertThat(cache.get(DecisionCache.key("alice", "room:1"), 1_000)).isNull();
        cache.put(DecisionCache.key("a", "c"), accept, 5_000);
        cache.put(DecisionCache.key("b", "c"), accept, 5_000);
        cache.put(DecisionCache.key("c", "c"), accept, 5_000);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(DecisionCache.key("a", "c"), 0)).as("the least recently used went").isNull();
    }
}
