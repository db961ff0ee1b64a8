package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.gateway.config.ConfigException;
import dev.portcullis.gateway.transport.DevSite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./portcullis dev}'s kept secrets, its token, its site, and {@code token --claim} values. */
class DevModeTest {
    @TempDir
    Path dir;

    @Test
    void theSecretAndApiKeyAreKeptOwnerOnlyAcrossStarts() throws Exception {
        Map<String, Object> first = new HashMap<>();
        DevMode.fillIn(null, first, dir);
        Path state = dir.resolve(DevMode.STATE_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");
        assertThat((String) first.get("auth.hmac-secret")).hasSizeGreaterThanOrEqualTo(32);
        assertThat(first.get("admin.api-keys")).asList().hasSize(1);

        Map<String, Object> second = new HashMap<>();
        DevMode.fillIn(null, second, dir);
        assertThat(second.get("auth.hmac-secret")).isEqualTo(first.get("auth.hmac-secret"));
        assertThat(second.get("admin.api-keys")).isEqualTo(first.get("admin.api-keys"));
        assertThat(second.get("server.host")).isEqualTo("127.0.0.1");
    }

    @Test
    void aStateFileOthersCanReadIsTightenedAndGarbageIsNamed() throws Exception {
        Path state = dir.resolve(DevMode.STATE_FILE);
        DevMode.State made = DevMode.state(state);
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(DevMode.state(state)).isEqualTo(made);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");

        Files.writeString(state, "not json");
        assertThatThrownBy(() -> DevMode.state(state)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(DevMode.STATE_FILE).hasMessageContaining("delete it");
    }

    @Test
    void theChatSchemaGuardsRoomsWhenTheExampleIsThere() throws Exception {
        Files.createDirectories(dir.resolve("examples"));
        Files.writeString(dir.resolve(DevMode.CHAT_SCHEMA), "{}");
        Map<String, Object> overrides = new HashMap<>();
        DevMode.fillIn(null, overrides, dir);
        assertThat(overrides.get("channels.schemas")).isEqualTo(List.of("room=" + dir.resolve(DevMode.CHAT_SCHEMA).toAbsolutePath()));
    }

    @Test
    void theTokenCommandSignsWithTheDevSecretWhenNothingIsConfigured() {
        Path state = dir.resolve(DevMode.STATE_FILE);
        assertThatThrownBy(() -> Main.configuredSecret(null, state)).isInstanceOf(ConfigException.class);
        DevMode.State made = DevMode.state(state);
        assertThat(Main.configuredSecret(null, state)).isEqualTo(made.hmacSecret());
    }

    @Test
    void theDevTokenMayUseTheReadmesChannels() throws Exception {
        String token = DevMode.devToken("s".repeat(32), "dev-user");
        Map<String, Object> claims = SignedJWT.parse(token).getJWTClaimsSet().getJSONObjectClaim("channels");
        assertThat(claims).containsEntry("room:*", "rw").containsEntry("alerts", "r");
    }

    @Test
    void claimValuesThatAreJsonAreStoredAsJson() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("channels", "{\"room:42\":\"rw\"}");
        raw.put("roles", "[\"a\",\"b\"]");
        raw.put("level", "3");
        raw.put("admin", "true");
        raw.put("name", "alice");
        raw.put("quoted", "\"3\"");
        raw.put("date", "2024-01-01");
        Map<String, Object> values = Main.claimValues(raw);
        assertThat(values.get("channels")).isEqualTo(Map.of("room:42", "rw"));
        assertThat(values.get("roles")).isEqualTo(List.of("a", "b"));
        assertThat(values.get("level")).isEqualTo(3);
        assertThat(values.get("admin")).isEqualTo(true);
        assertThat(values.get("name")).isEqualTo("alice");
        assertThat(values.get("quoted")).isEqualTo("3");
        assertThat(values.get("date")).isEqualTo("2024-01-01");
        assertThatThrownBy(() -> Main.claimValues(Map.of("channels", "{\"room:42\":")))
                .hasMessageContaining("--claim: not valid JSON");
    }

    @Test
    void theDevSiteServesOnlyPlainFilesUnderItsRoots() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        Files.writeString(site.resolve("index.html"), "<p>hi</p>");
        Files.writeString(site.resolve(".secret.js"), "x");
        Files.writeString(dir.resolve("outside.js"), "x");
        Files.createSymbolicLink(site.resolve("escape.js"), dir.resolve("outside.js"));
        Files.createDirectories(site.resolve("sub"));
        Files.writeString(site.resolve("sub/inner.js"), "x");
        DevSite devSite = new DevSite(List.of(site, dir.resolve("missing")));
        assertThat(devSite.resolve("/")).isEqualTo(site.resolve("index.html").toRealPath());
        assertThat(devSite.resolve("/sub/inner.js")).isNotNull();
        assertThat(devSite.resolve("/escape.js")).as("a link out of the root").isNull();
        assertThat(new DevSite(List.of(site.resolve("sub"))).resolve("/index.html")).as("a file beside the root").isNull();
        assertThat(devSite.resolve("/index.html")).isNotNull();
        assertThat(devSite.resolve("/../outside.js")).isNull();
        assertThat(devSite.resolve("/.secret.js")).isNull();
        assertThat(devSite.resolve("/index.exe")).isNull();
        assertThat(devSite.resolve("/nope.js")).isNull();
    }
}
