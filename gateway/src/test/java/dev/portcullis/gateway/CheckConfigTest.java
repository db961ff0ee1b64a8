package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code check-config} refuses what {@code serve} refuses: one validation path (Gateway.validate). */
class CheckConfigTest {
    @TempDir
    Path dir;

    @Test
    void aPublicKeyWithAnHmacAlgorithmIsInvalidAsServeFindsIt() throws Exception {
        var rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(rsa.generateKeyPair().getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        Path key = Files.writeString(dir.resolve("key.pem"), pem);
        Path mixed = Files.writeString(dir.resolve("mixed.yaml"),
                "auth:\n  public-key: " + key + "\n  algorithms: [HS256, RS256]\n");
        Result refused = checkConfig(mixed);
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("invalid configuration").contains("auth.algorithms");
        assertThatServeRefuses(mixed);

        Path fine = Files.writeString(dir.resolve("fine.yaml"), "auth:\n  public-key: " + key + "\n  algorithms: [RS256]\n");
        Result valid = checkConfig(fine);
        assertThat(valid.exit()).as(valid.err()).isZero();
        assertThat(valid.out()).contains("configuration is valid");
    }

    @Test
    void aMissingSchemaFileIsInvalidToo() throws Exception {
        Path config = Files.writeString(dir.resolve("schemas.yaml"), "auth:\n  hmac-secret: check-config-secret-0123456789-abcdef\n"
                + "channels:\n  schemas: [room=" + dir.resolve("nope.json") + "]\n");
        Result refused = checkConfig(config);
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("nope.json");
    }

    @Test
    void anEncryptedPatternOverANamespaceWithASchemaIsInvalid() throws Exception {
        Path schema = Path.of("..", "examples", "chat.schema.json").toAbsolutePath();
        Path config = Files.writeString(dir.resolve("encrypted.yaml"), "auth:\n  hmac-secret: check-config-secret-0123456789-abcdef\n"
                + "channels:\n  schemas: [room=" + schema + "]\n  encrypted: ['room:private-*']\n");
        Result refused = checkConfig(config);
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("channels.encrypted: matches channels in namespace 'room', which has a schema");
        Path fine = Files.writeString(dir.resolve("fine.yaml"), "auth:\n  hmac-secret: check-config-secret-0123456789-abcdef\n"
                + "channels:\n  schemas: [room=" + schema + "]\n  encrypted: ['secret:*']\n");
        assertThat(checkConfig(fine).exit()).isZero();
    }

    private void assertThatServeRefuses(Path config) {
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Gateway.validate(
                dev.portcullis.gateway.config.ConfigLoader.load(config, java.util.Map.of(), java.util.Map.of()))))
                .as("serve validates the same way").isInstanceOf(IllegalArgumentException.class);
    }

    private record Result(int exit, String out, String err) {}

    private static Result checkConfig(Path config) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new Main()).execute("check-config", "--config", config.toString());
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }
}
