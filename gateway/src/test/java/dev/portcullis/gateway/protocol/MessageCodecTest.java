package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MessageCodecTest {
    private final MessageCodec codec = new MessageCodec();

    @Test
    void decodesEveryType() {
        assertThat(codec.decode("{\"type\":\"ping\"}")).isEqualTo(new ClientMessage.Ping(null));
        assertThat(codec.decode("{\"type\":\"ping\",\"id\":7}")).isEqualTo(new ClientMessage.Ping(RequestId.of(7)));
        assertThat(codec.decode("{\"id\":\"r1\",\"type\":\"auth\",\"token\":\"eyJ.x.y\"}"))
                .isEqualTo(new ClientMessage.Auth(RequestId.of("r1"), "eyJ.x.y"));
        assertThat(codec.decode("{\"type\":\"subscribe\",\"channel\":\"chat:room-1.a_b\"}"))
                .isEqualTo(new ClientMessage.Subscribe(null, "chat:room-1.a_b"));
        assertThat(codec.decode("{\"type\":\"unsubscribe\",\"channel\":\"alerts\",\"id\":\"u\"}"))
                .isEqualTo(new ClientMessage.Unsubscribe(RequestId.of("u"), "alerts"));
        ClientMessage.Publish publish = (ClientMessage.Publish)
                codec.decode("{\"type\":\"publish\",\"id\":1,\"channel\":\"chat:1\",\"data\":{\"a\":[1,\"x\",null,true]}}");
        assertThat(publish.id()).isEqualTo(RequestId.of(1));
        assertThat(publish.channel()).isEqualTo("chat:1");
        assertThat(publish.data().toString()).isEqualTo("{\"a\":[1,\"x\",null,true]}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "42", "\"text\"", "[1,2]", "false"})
    void publishAcceptsAnyJsonValueAsData(String data) {
        ClientMessage.Publish publish =
                (ClientMessage.Publish) codec.decode("{\"type\":\"publish\",\"channel\":\"c\",\"data\":" + data + "}");
        assertThat(publish.data().toString()).isEqualTo(data);
    }

    @Test
    void acceptsLongestIdAndChannel() {
        String id = "i".repeat(64);
        String channel = "c".repeat(128);
        assertThat(codec.decode("{\"type\":\"subscribe\",\"id\":\"" + id + "\",\"channel\":\"" + channel + "\"}"))
                .isEqualTo(new ClientMessage.Subscribe(RequestId.of(id), channel));
        assertThat(codec.decode("{\"type\":\"ping\",\"id\":-12345678901234567890}").id()).isEqualTo(new RequestId("-12345678901234567890", true));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // missing field
        "{\"type\":\"auth\",\"id\":\"a\"}                           | $.token: is required",
        "{\"type\":\"subscribe\"}                                   | $.channel: is required",
        "{\"type\":\"unsubscribe\"}                                 | $.channel: is required",
        "{\"type\":\"publish\",\"channel\":\"c\"}                   | $.data: is required",
        "{\"type\":\"publish\",\"data\":1}                          | $.channel: is required",
        // wrong type
        "{\"type\":\"auth\",\"token\":5}                            | $.token: must be of type string",
        "{\"type\":\"auth\",\"token\":\"\"}                         | $.token: must not be empty",
        "{\"type\":\"subscribe\",\"channel\":[\"a\"]}               | $.channel: must be of type string",
        "{\"type\":\"unsubscribe\",\"channel\":null}                | $.channel: must be of type string",
        "{\"type\":\"publish\",\"channel\":7,\"data\":1}            | $.channel: must be of type string",
        "{\"type\":\"ping\",\"id\":1.5}                             | $.id: must be of type string or integer",
        "{\"type\":\"ping\",\"id\":{}}                              | $.id: must be of type string or integer",
        // extra field
        "{\"type\":\"ping\",\"extra\":1}                            | $.extra: is not allowed",
        "{\"type\":\"auth\",\"token\":\"t\",\"since\":1}            | $.since: is not allowed",
        "{\"type\":\"subscribe\",\"channel\":\"c\",\"data\":1}      | $.data: is not allowed",
        "{\"type\":\"unsubscribe\",\"channel\":\"c\",\"x-y\":1}     | $['x-y']: is not allowed",
        "{\"type\":\"publish\",\"channel\":\"c\",\"data\":1,\"d\":2} | $.d: is not allowed",
        // type
        "{\"id\":\"q\"}                                             | $.type: is required",
        "{\"type\":1}                                               | $.type: must be of type string",
    })
    void refusesInvalidMessagesNamingThePath(String json, String message) {
        ProtocolException e = refusal(json);
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(e.getMessage()).isEqualTo(message);
    }

    @Test
    void echoesTheIdOfAnInvalidMessage() {
        assertThat(refusal("{\"type\":\"auth\",\"id\":\"a1\"}").id()).isEqualTo(RequestId.of("a1"));
        assertThat(refusal("{\"type\":\"auth\",\"id\":12}").id()).isEqualTo(RequestId.of(12));
        assertThat(refusal("{\"type\":\"nope\",\"id\":\"n\"}").id()).isEqualTo(RequestId.of("n"));
    }

    @Test
    void refusesTooLongIdsWithoutEchoingThem() {
        ProtocolException string = refusal("{\"type\":\"ping\",\"id\":\"" + "i".repeat(65) + "\"}");
        assertThat(string.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(string.getMessage()).isEqualTo("$.id: must be at most 64 characters");
        assertThat(string.id()).isNull();

        ProtocolException number = refusal("{\"type\":\"ping\",\"id\":" + "9".repeat(65) + "}");
        assertThat(number.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(number.getMessage()).startsWith("$.id: must be at most 9999");
        assertThat(number.id()).isNull();
    }

    static List<String> badChannels() {
        return List.of("", "a b", "chat/room", "x".repeat(129), "abc\\n", "caf\\u00e9", "<b>", "a*");
    }

    @ParameterizedTest
    @MethodSource("badChannels")
    void badChannelNamesAreBadChannel(String channel) {
        for (String json : new String[] {
            "{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}",
            "{\"type\":\"unsubscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}",
            "{\"type\":\"publish\",\"id\":\"s\",\"channel\":\"" + channel + "\",\"data\":{}}"
        }) {
            ProtocolException e = refusal(json);
            assertThat(e.code()).as(json).isEqualTo(ProtocolException.BAD_CHANNEL);
            assertThat(e.getMessage()).isEqualTo("$.channel: does not match the channel pattern");
            assertThat(e.id()).isEqualTo(RequestId.of("s"));
        }
    }

    @Test
    void unknownTypeIsUnknownTypeWithoutEchoingIt() {
        ProtocolException e = refusal("{\"type\":\"<script>\"}");
        assertThat(e.code()).isEqualTo(ProtocolException.UNKNOWN_TYPE);
        assertThat(e.getMessage()).isEqualTo("unknown message type");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not json", "{\"type\":\"ping\"", "{\"type\":\"ping\"} trailing", "{'type':'ping'}",
        "{\"type\":\"ping\",\"type\":\"auth\",\"token\":\"t\"}"})
    void notJsonIsBadJson(String text) {
        ProtocolException e = refusal(text);
        assertThat(e.code()).isEqualTo(ProtocolException.BAD_JSON);
        assertThat(e.id()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[{\"type\":\"ping\"}]", "\"ping\"", "42", "null"})
    void jsonThatIsNotAnObjectIsBadJson(String text) {
        ProtocolException e = refusal(text);
        assertThat(e.code()).isEqualTo(ProtocolException.BAD_JSON);
        assertThat(e.getMessage()).isEqualTo("message must be a JSON object");
    }

    @Test
    void refusesDataWithANumberBeyondDouble() {
        ProtocolException e = refusal("{\"type\":\"publish\",\"id\":\"p\",\"channel\":\"c\",\"data\":{\"n\":1e400}}");
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(e.getMessage()).startsWith("$.data:");
        assertThat(e.id()).isEqualTo(RequestId.of("p"));
    }

    @Test
    void messagesNeverEchoLargeInput() {
        String huge = "k".repeat(5000);
        ProtocolException e = refusal("{\"type\":\"ping\",\"" + huge + "\":1}");
        assertThat(e.getMessage()).hasSizeLessThan(80).startsWith("$['kkkk").endsWith("...']: is not allowed");
    }

    @Test
    void encodesTypeFirstAndLeavesOutNulls() {
        assertThat(codec.encode(new ServerMessage.Connected("c1", "alice", 5)))
                .isEqualTo("{\"type\":\"connected\",\"connection\":\"c1\",\"user\":\"alice\",\"expiresAt\":5}");
        assertThat(codec.encode(new ServerMessage.Reauth(9))).isEqualTo("{\"type\":\"reauth\",\"deadlineMs\":9}");
        assertThat(codec.encode(new ServerMessage.Pong(null))).isEqualTo("{\"type\":\"pong\"}");
        assertThat(codec.encode(new ServerMessage.Ack(RequestId.of("1"), null))).isEqualTo("{\"type\":\"ack\",\"id\":\"1\"}");
        assertThat(codec.encode(new ServerMessage.Ack(RequestId.of(1), null))).isEqualTo("{\"type\":\"ack\",\"id\":1}");
        assertThat(codec.encode(new ServerMessage.Pong(new RequestId("-12345678901234567890", true))))
                .isEqualTo("{\"type\":\"pong\",\"id\":-12345678901234567890}");
        assertThat(codec.encode(new ServerMessage.Error(RequestId.of("2"), "bad_channel", "m", 30L)))
                .isEqualTo("{\"type\":\"error\",\"id\":\"2\",\"code\":\"bad_channel\",\"message\":\"m\",\"retryAfterMs\":30}");
    }

    @Test
    void refusalsAreCheapAndCarryNoStackTrace() {
        assertThat(refusal("nope").getStackTrace()).isEmpty();
        ProtocolException withId = new ProtocolException(ProtocolException.INVALID_MESSAGE, null, "$.data: x").withId(RequestId.of("9"));
        assertThat(withId.id()).isEqualTo(RequestId.of("9"));
        assertThat(withId.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(withId.getMessage()).isEqualTo("$.data: x");
    }

    private ProtocolException refusal(String text) {
        ProtocolException e = catchThrowableOfType(ProtocolException.class, () -> codec.decode(text));
        assertThat(e).as(text).isNotNull();
        return e;
    }
}
