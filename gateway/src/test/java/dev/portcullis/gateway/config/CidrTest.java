package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CidrTest {

    @Test
    void containsByPrefix() throws Exception {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.contains(InetAddress.getByName("10.200.3.4"))).isTrue();
        assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
        Cidr odd = Cidr.parse("192.168.8.0/21");
        assertThat(odd.contains(InetAddress.getByName("192.168.15.255"))).isTrue();
        assertThat(odd.contains(InetAddress.getByName("192.168.16.0"))).isFalse();
        Cidr one = Cidr.parse("127.0.0.1");
        assertThat(one.contains(InetAddress.getByName("127.0.0.1"))).isTrue();
        assertThat(one.contains(InetAddress.getByName("127.0.0.2"))).isFalse();
        Cidr v6 = Cidr.parse("2001:db8::/32");
        assertThat(v6.contains(InetAddress.getByName("2001:db8:ffff::1"))).isTrue();
        assertThat(v6.contains(InetAddress.getByName("10.0.0.1"))).isFalse();
    }

    @Test
    void onlyLiteralAddresses() {
        assertThat(Cidr.valid("localhost")).as("no DNS").isFalse();
        assertThat(Cidr.valid("10.0.0.0/33")).isFalse();
        assertThat(Cidr.valid("10.0.0.0/x")).isFalse();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("auth.hmac-secret", "0123456789abcdef0123456789abcdef",
                "server.trusted-proxies", List.of("10.0.0.0/8", "proxy.internal"))))
                .hasMessageContaining("server.trusted-proxies: 'proxy.internal' is not an IP address or CIDR block");
    }
}
