package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.config.ChannelsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacePoliciesTest {
    private static final String ROOM = "0b8e7c2a-5d1f-4e3b-9a6c-7f2d1e0c9b8a";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    // --- the example chat schema

    @Test
    void validChatDataPasses() {
        PublicationData policies = chat("text");
        String data = "{\"type\":\"chat\",\"content\":\"hello\",\"roomId\":\"" + ROOM + "\"}";
        assertThat(policies.prepare("chat:c", "chat", json(data))).isEqualTo(data);
        assertThat(policies.prepare("chat:c", "chat", json("{\"roomId\":\"" + ROOM.toUpperCase() + "\",\"type\":\"typing\"}")))
                .isEqualTo("{\"roomId\":\"" + ROOM.toUpperCase() + "\",\"type\":\"typing\"}");
    }

    @Test
    void contentOverItsLimitNamesTheField() {
        String content = "x".repeat(1001);
        ProtocolException e = refusal(chat("text"), "chat",
                "{\"type\":\"chat\",\"content\":\"" + content + "\",\"roomId\":\"" + ROOM + "\"}");
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(e.getMessage()).isEqualTo("$.data.content: must be at most 1000 characters");
        assertThat(e.id()).isNull();
        assertThat(chat("text").prepare("chat:c", "chat",
                json("{\"type\":\"chat\",\"content\":\"" + "x".repeat(1000) + "\",\"roomId\":\"" + ROOM + "\"}"))).contains("xxx");
    }

    @Test
    void badRoomIdNamesTheField() {
        for (String roomId : new String[] {"not-a-uuid", ROOM + "0", "0b8e7c2a5d1f4e3b9a6c7f2d1e0c9b8a", ROOM + "\\n"}) {
            ProtocolException e = refusal(chat("text"), "chat", "{\"type\":\"chat\",\"roomId\":\"" + roomId + "\"}");
            assertThat(e.getMessage()).as(roomId).startsWith("$.data.roomId: does not match the pattern");
        }
        assertThat(refusal(chat("text"), "chat", "{\"type\":\"chat\",\"roomId\":42}").getMessage())
                .isEqualTo("$.data.roomId: must be of type string");
    }

    @Test
    void wrongKindOfMessageNamesTheEnum() {
        ProtocolException e = refusal(chat("text"), "chat", "{\"type\":\"shout\",\"roomId\":\"" + ROOM + "\"}");
        assertThat(e.getMessage()).isEqualTo("$.data.type: must be one of chat, typing, reaction");
    }

    @Test
    void missingAndExtraFieldsAreNamed() {
        assertThat(refusal(chat("text"), "chat", "{\"type\":\"chat\"}").getMessage()).isEqualTo("$.data.roomId: is required");
        assertThat(refusal(chat("text"), "chat", "{\"type\":\"chat\",\"roomId\":\"" + ROOM + "\",\"html\":1}").getMessage())
                .isEqualTo("$.data.html: is not allowed");
        assertThat(refusal(chat("text"), "chat", "[]").getMessage()).isEqualTo("$.data: must be of type object");
    }

    @Test
    void schemaAppliesOnlyToItsNamespace() {
        PublicationData policies = chat("text");
        assertThat(policies.prepare("c", "", json("{\"anything\":true}"))).isEqualTo("{\"anything\":true}");
        assertThat(policies.prepare("chatty:c", "chatty", json("[1]"))).isEqualTo("[1]");
    }

    @Test
    void validatesWhatSubscribersReceive() throws IOException {
        Path schema = write("{\"properties\":{\"content\":{\"type\":\"string\",\"minLength\":1}}}");
        PublicationData policies = NamespacePolicies.create(config(Map.of("n", schema), Map.of(), "text"));
        assertThat(refusal(policies, "n", "{\"content\":\"<b></b>\"}").getMessage()).isEqualTo("$.data.content: must not be empty");
    }

    @Test
    void formatIsAsserted() throws IOException {
        Path schema = write("{\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"}}}");
        PublicationData policies = NamespacePolicies.create(config(Map.of("n", schema), Map.of(), "none"));
        assertThat(policies.prepare("n:c", "n", json("{\"id\":\"" + ROOM + "\"}"))).contains(ROOM);
        assertThat(refusal(policies, "n", "{\"id\":\"nope\"}").getMessage()).isEqualTo("$.data.id: must be a valid uuid");
    }

    // --- sanitising

    @Test
    void textModeSanitisesEveryStringAtAnyDepth() {
        PublicationData policies = modes("text");
        String data = "{\"msg\":\"<script>alert(1)</script>hello\",\"n\":[\"<b>bold</b>\",[\"e\\u0301\",{\"deep\":\"a\\u0000b\"}]],"
                + "\"keep\":\"a < b && c > d\",\"num\":1.5,\"int\":-3,\"big\":123456789012345678901234567890,"
                + "\"yes\":true,\"no\":false,\"nothing\":null,\"empty\":{},\"none\":[]}";
        assertThat(policies.prepare("chat:c", "chat", json(data))).isEqualTo(
                "{\"msg\":\"hello\",\"n\":[\"bold\",[\"\u00e9\",{\"deep\":\"ab\"}]],"
                        + "\"keep\":\"a < b && c > d\",\"num\":1.5,\"int\":-3,\"big\":123456789012345678901234567890,"
                        + "\"yes\":true,\"no\":false,\"nothing\":null,\"empty\":{},\"none\":[]}");
    }

    @Test
    void textModeSanitisesKeysAndKeepsTheirOrder() {
        assertThat(modes("text").prepare("x:c", "x", json("{\"a\":1,\"<i>b</i>\":2,\"e\\u0301\":3,\"z\":4}")))
                .isEqualTo("{\"a\":1,\"b\":2,\"\u00e9\":3,\"z\":4}");
    }

    @Test
    void keysThatBecomeEqualAreRefusedWithTheObjectsPath() {
        ProtocolException e = refusal(modes("text"), "x", "{\"list\":[0,{\"inner\":{\"a\":1,\"<b>a</b>\":2}}]}");
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(e.getMessage()).isEqualTo("$.data.list[1].inner: has keys that are equal once sanitised");
    }

    @Test
    void cleanDataIsNotCopied() {
        JsonNode data = json("{\"a\":[\"plain\",1,{\"b\":\"caf\u00e9\"}]}");
        assertThat(DataSanitizer.sanitize(data)).isSameAs(data);
        JsonNode dirty = json("{\"a\":[\"plain\",\"<b>x</b>\"]}");
        assertThat(DataSanitizer.sanitize(dirty)).isNotSameAs(dirty);
        assertThat(dirty.toString()).isEqualTo("{\"a\":[\"plain\",\"<b>x</b>\"]}");
    }

    @Test
    void noneModeReturnsDataUnchanged() {
        String data = "{\"html\":\"<script>alert(1)</script>\",\"nfd\":\"e\\u0301\",\"ctl\":\"\\u0001\",\"n\":[1,2.5,null,true]}";
        assertThat(modes("none").prepare("raw:c", "raw", json(data))).isEqualTo(json(data).toString());
        assertThat(modes("none").prepare("raw:c", "raw", json(data))).contains("<script>", "e\u0301", "\\u0001");
    }

    @Test
    void modeIsChosenByNamespace() {
        PublicationData policies = NamespacePolicies.create(config(Map.of(), Map.of("raw", "none", "chat", "text"), "none"));
        assertThat(policies.prepare("raw:c", "raw", json("\"<b>x</b>\""))).isEqualTo("\"<b>x</b>\"");
        assertThat(policies.prepare("chat:c", "chat", json("\"<b>x</b>\""))).isEqualTo("\"x\"");
        assertThat(policies.prepare("c", "", json("\"<b>x</b>\""))).isEqualTo("\"<b>x</b>\"");
    }

    @Test
    void decodedDataKeepsItsNumbers() {
        ClientMessage.Publish publish = (ClientMessage.Publish) new MessageCodec().decode(
                "{\"type\":\"publish\",\"channel\":\"c\",\"data\":[0,-1,9007199254740993,123456789012345678901234567890,0.1,1e2,-0.0]}");
        assertThat(modes("text").prepare("c", "", publish.data()))
                .isEqualTo("[0,-1,9007199254740993,123456789012345678901234567890,0.1,100.0,-0.0]");
    }

    // --- configuration

    @Test
    void schemaThatIsNotJsonSchemaNamesTheKey() throws IOException {
        Path bad = write("{\"type\":\"object\",\"properties\":{\"a\":{\"minLength\":\"5\"}}}");
        assertThatThrownBy(() -> NamespacePolicies.create(config(Map.of("chat", bad), Map.of(), "text")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("channels.schemas: chat=" + bad + ": not a valid DRAFT_2020_12 schema")
                .hasMessageContaining("minLength");
    }

    @Test
    void schemaFileProblemsNameTheKey() throws IOException {
        for (Path bad : List.of(write("{not json"), write("{\"type\":\"wrong\"}"), write("{\"$ref\":\"https://example.com/s.json\"}"),
                write("{\"$ref\":\"#/$defs/missing\"}"), write("{\"pattern\":\"[\"}"), dir.resolve("missing.json"))) {
            assertThatThrownBy(() -> NamespacePolicies.create(config(Map.of("n", bad), Map.of(), "text")))
                    .as(bad.toString())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("channels.schemas: n=" + bad + ": ");
        }
    }

    @Test
    void unknownModeNamesTheKey() {
        assertThatThrownBy(() -> NamespacePolicies.create(config(Map.of(), Map.of(), "html")))
                .hasMessageStartingWith("channels.sanitize-default");
        assertThatThrownBy(() -> NamespacePolicies.create(config(Map.of(), Map.of("chat", "strip"), "text")))
                .hasMessageStartingWith("channels.sanitize");
    }

    /** The chat example's own schema (tests run in the gateway module's directory). */
    static final Path CHAT_SCHEMA = Path.of("..", "examples", "chat.schema.json");

    // --- encrypted channels

    @Test
    void anEncryptedChannelTakesTheEnvelopeAsSentAndNothingElse() {
        ChannelsConfig config = new ChannelsConfig("channels", List.of(), List.of(), true, Map.of("chat", CHAT_SCHEMA), Map.of(), "text",
                false, List.of(), List.of(), List.of("secret:*", "vault"));
        NamespacePolicies policies = NamespacePolicies.create(config);
        // a kid the text sanitiser would change (markup, an entity-like &) passes byte for byte
        String envelope = EncryptedEnvelopeTest.VALID.replace("\"k1\"", "\"<b>k&amp;1</b>\"");
        for (PublicationData data : List.of(policies, policies.unsanitised())) {
            assertThat(data.prepare("secret:room", "secret", json(envelope))).isEqualTo(envelope);
            assertThat(data.prepare("vault", "", json(envelope))).isEqualTo(envelope);
            assertThat(data.encrypted("secret:room")).isTrue();
            assertThat(data.encrypted("vault")).isTrue();
            assertThat(data.encrypted("vaults")).isFalse();
            assertThat(catchThrowableOfType(ProtocolException.class, () -> data.prepare("secret:room", "secret", json("{\"text\":\"hi\"}")))
                    .getMessage()).isEqualTo("$.data.v: v is required");
        }
        // the same namespace's other channels, and other namespaces, keep their policies
        assertThat(policies.prepare("vaults", "", json("\"<b>x</b>\""))).isEqualTo("\"x\"");
        assertThat(refusal(policies, "chat", envelope).getMessage()).startsWith("$.data");
    }

    @Test
    void anEncryptedPatternReachingANamespaceWithASchemaIsRefused() {
        for (String pattern : List.of("chat:*", "chat:room-1", "ch*", "*")) {
            assertThatThrownBy(() -> NamespacePolicies.create(new ChannelsConfig("channels", List.of(), List.of(), true,
                    Map.of("chat", CHAT_SCHEMA), Map.of(), "text", false, List.of(), List.of(), List.of(pattern))))
                    .as(pattern)
                    .hasMessage("channels.encrypted: matches channels in namespace 'chat', which has a schema in channels.schemas: "
                            + "the gateway cannot check encrypted data against a schema; narrow the pattern or remove the schema");
        }
        for (String pattern : List.of("chats:*", "chat", "chatroom", "secret*", "c:*")) {
            assertThat(NamespacePolicies.create(new ChannelsConfig("channels", List.of(), List.of(), true,
                    Map.of("chat", CHAT_SCHEMA), Map.of(), "text", false, List.of(), List.of(), List.of(pattern)))).as(pattern).isNotNull();
        }
    }

    private PublicationData chat(String mode) {
        return NamespacePolicies.create(config(Map.of("chat", CHAT_SCHEMA), Map.of(), mode));
    }

    private static PublicationData modes(String mode) {
        return NamespacePolicies.create(config(Map.of(), Map.of(), mode));
    }

    private static ChannelsConfig config(Map<String, Path> schemas, Map<String, String> sanitize, String sanitizeDefault) {
        return new ChannelsConfig("channels", List.of(), List.of(), true, schemas, sanitize, sanitizeDefault, false, List.of(), List.of(), List.of());
    }

    private Path write(String schema) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "schema", ".json"), schema);
    }

    private static ProtocolException refusal(PublicationData policies, String namespace, String data) {
        ProtocolException e = catchThrowableOfType(ProtocolException.class, () -> policies.prepare(namespace + ":c", namespace, json(data)));
        assertThat(e).as(data).isNotNull();
        return e;
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
