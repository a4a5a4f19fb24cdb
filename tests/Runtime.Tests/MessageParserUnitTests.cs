using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Tests;

public class MessageParserUnitTests
{
    private static WampMessage Parse(string json) => WampMessageParser.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Call_with_args_and_kwargs_keeps_payload_as_raw_json()
    {
        var m = Parse("""[48, 7, {"timeout": 200}, "com.example.add", [1, {"a": [2]}], {"k": "v"}]""");
        Assert.Equal(WampMessageType.Call, m.Type);
        Assert.Equal(7, m.Id1);
        Assert.Equal("com.example.add", m.Uri);
        Assert.Equal(200, m.Dict.GetInt64("timeout"u8));
        Assert.Equal("""[1, {"a": [2]}]""", Encoding.UTF8.GetString(m.Payload.ArgumentsJson.Span));
        Assert.Equal("""{"k": "v"}""", Encoding.UTF8.GetString(m.Payload.KeywordArgumentsJson.Span));
    }

    [Theory]
    [InlineData("""[50, 1, {}]""", false, false)]
    [InlineData("""[50, 1, {}, [5]]""", true, false)]
    [InlineData("""[50, 1, {}, [], {"a": 1}]""", false, true)]
    [InlineData("""[50, 1, {}, [5], null]""", true, false)]
    public void Result_accepts_every_payload_length_and_a_null_kwargs(string json, bool hasArgs, bool hasKwargs)
    {
        var m = Parse(json);
        Assert.Equal(WampMessageType.Result, m.Type);
        Assert.Equal(hasArgs, m.Payload.HasArguments);
        Assert.Equal(hasKwargs, m.Payload.HasKeywordArguments);
    }

    [Theory]
    [InlineData("""[8, 48, 3, {}, "com.example.error.x"]""")]
    [InlineData("""[8, 48, 3, {}, "com.example.error.x", ["a"]]""")]
    [InlineData("""[8, 48, 3, {}, "com.example.error.x", ["a"], {"k": 1}]""")]
    public void Error_has_five_six_or_seven_elements(string json)
    {
        var m = Parse(json);
        Assert.Equal(WampMessageType.Error, m.Type);
        Assert.Equal(48, m.Id1);
        Assert.Equal(3, m.Id2);
        Assert.Equal("com.example.error.x", m.Uri);
    }

    [Theory]
    [InlineData("""[35, 4]""", 4L)]
    [InlineData("""[35, 0, {"subscription": 9, "reason": "gone"}]""", 0L)]
    public void Unsubscribed_has_plain_and_revocation_forms(string json, long requestId)
    {
        var m = Parse(json);
        Assert.Equal(requestId, m.Id1);
    }

    [Fact]
    public void Unknown_details_keys_are_ignored_and_a_null_details_is_empty()
    {
        var m = Parse("""[6, null, "wamp.close.normal"]""");
        Assert.True(m.Dict.IsEmpty);
        var w = Parse("""[2, 99, {"x_cb_node": "n1", "roles": {"broker": {}}, "authid": null}]""");
        Assert.Equal(99, w.Id1);
        Assert.Null(w.Dict.GetString("authid"u8));
        Assert.Equal("n1", w.Dict.GetString("x_cb_node"u8));
    }

    [Theory]
    [InlineData("{}", "must be a JSON array")]
    [InlineData("[]", "integer message type")]
    [InlineData("""["48"]""", "integer message type")]
    [InlineData("[7, 1]", "unknown message type 7")]
    [InlineData("[48, 1, {}]", "too short")]
    [InlineData("""[48, -1, {}, "a.b"]""", "invalid id")]
    [InlineData("""[48, 9007199254740993, {}, "a.b"]""", "invalid id")]
    [InlineData("""[48, 1, [], "a.b"]""", "non-dictionary")]
    [InlineData("""[48, 1, {}, 5]""", "non-string URI")]
    [InlineData("""[48, 1, {}, "a.b", {}]""", "invalid Arguments")]
    [InlineData("""[48, 1, {}, "a.b", [], []]""", "invalid ArgumentsKw")]
    [InlineData("""[48, 1, {}, "a.b", [], {}, 1]""", "too many elements")]
    [InlineData("""[17, 1, 2, 3]""", "too many elements")]
    [InlineData("""[48, 1, {}, "a.b"] []""", "not valid JSON")]
    [InlineData("""[48, 1, {""", "not valid JSON")]
    public void Malformed_messages_are_protocol_violations(string json, string reason)
    {
        var e = Assert.Throws<WampProtocolException>(() => Parse(json));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void The_head_of_an_oversized_message_names_its_request()
    {
        string head = """[16, 12, {"exclude_me": false, "acknowledge": true}, "com.example.big", ["xxxxxxxx""";
        Assert.True(WampMessageParser.TryParseHead(Encoding.UTF8.GetBytes(head), out var type, out long first, out _, out bool ack));
        Assert.Equal(WampMessageType.Publish, type);
        Assert.Equal(12, first);
        Assert.True(ack);

        Assert.True(WampMessageParser.TryParseHead("[8, 68, 33, {}, \"x.y\", [\"aaaa"u8, out type, out first, out long second, out _));
        Assert.Equal((WampMessageType.Error, 68L, 33L), (type, first, second));
    }

    [Theory]
    [InlineData("""[48, 1, {}, "com.example.\uD800"]""")]
    [InlineData("""[48, 1, {}, "com.example.\uDC00x"]""")]
    [InlineData("""[48, 1, {"mode": "\uDBFF"}, "com.example.a"]""")]
    [InlineData("""[48, 1, {"x_\uD800": 1}, "com.example.a"]""")]
    [InlineData("""[48, 1, {"x_meta": [{"a": "\uD800\u0041"}]}, "com.example.a"]""")]
    [InlineData("""[50, 1, {}, ["\uDFFF"]]""")]
    [InlineData("""[50, 1, {}, [], {"k": "\\\uD800"}]""")]
    public void A_string_with_an_unpaired_surrogate_escape_is_a_protocol_violation(string json)
    {
        // Valid JSON grammar, but no .NET string can hold it: every reader of it would throw InvalidOperationException.
        var e = Assert.Throws<WampProtocolException>(() => Parse(json));
        Assert.False(e.ExceedsLimit);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0x80 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void A_message_that_is_not_valid_UTF_8_is_a_protocol_violation(byte[] bad)
    {
        byte[] Frame(string before, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];
        Assert.Throws<WampProtocolException>(() => WampMessageParser.Parse(Frame("[48, 1, {}, \"com.example.", "\"]")));
        Assert.Throws<WampProtocolException>(() => WampMessageParser.Parse(Frame("[48, 1, {\"mode\": \"", "\"}, \"com.example.a\"]")));
        Assert.Throws<WampProtocolException>(() => WampMessageParser.Parse(Frame("[50, 1, {}, [\"", "\"]]")));
    }

    [Fact]
    public void Escaped_surrogate_pairs_and_escaped_backslashes_are_read()
    {
        var m = Parse("""[48, 1, {"x_face": "\uD83D\uDE00", "x_path": "\\uD800"}, "com.example.\u0061", ["\uDBFF\uDFFF"]]""");
        Assert.Equal("com.example.a", m.Uri);
        Assert.Equal("\U0001F600", m.Dict.GetString("x_face"u8));
        Assert.Equal("\\uD800", m.Dict.GetString("x_path"u8));
        Assert.Equal("\U0010FFFF", m.Payload.Arguments[0].GetString());
    }

    [Fact]
    public void The_head_of_an_oversized_publish_with_an_unreadable_key_is_read()
    {
        string head = """[16, 12, {"ack\uD800nowledge": 1, "acknowledge": true}, "com.example.big", ["xxxxxxxx""";
        Assert.True(WampMessageParser.TryParseHead(Encoding.UTF8.GetBytes(head), out var type, out long first, out _, out bool ack));
        Assert.Equal((WampMessageType.Publish, 12L, true), (type, first, ack));
    }

    [Theory]
    [InlineData("""[48, -5, {}, "com.example.big", ["xxxx""")]
    [InlineData("""[48, 9007199254740993, {}, "com.example.big", ["xxxx""")]
    [InlineData("""[70, -9223372036854775808, {}, ["xxxx""")]
    [InlineData("""[8, 68, -1, {}, "x.y", ["xxxx""")]
    [InlineData("""[8, 68, 9223372036854775807, {}, "x.y", ["xxxx""")]
    public void The_head_of_an_oversized_message_with_an_id_out_of_range_cannot_be_read(string head)
    {
        // Read, the id would be echoed in an ERROR that no peer can parse.
        Assert.False(WampMessageParser.TryParseHead(Encoding.UTF8.GetBytes(head), out _, out _, out _, out _));
    }

    [Fact]
    public void Frame_writer_leaves_out_empty_payload_and_writes_empty_args_before_kwargs()
    {
        string Write(WampPayload p) => WampFrameWriter.Start(WampMessageType.Yield).Id(1).EmptyDict().Payload(p).ToFrame().ToString();
        Assert.Equal("[70,1,{}]", Write(WampPayload.FromJson("[]", "{}")));
        Assert.Equal("""[70,1,{},[1]]""", Write(WampPayload.FromJson("[1]")));
        Assert.Equal("""[70,1,{},[],{"a":1}]""", Write(WampPayload.FromJson(null, """{"a":1}""")));
    }

    [Fact]
    public void A_uri_that_keeps_coming_is_one_string_and_every_uri_reads_as_sent()
    {
        var first = Parse("""[48, 1, {}, "com.example.echo"]""");
        var second = Parse("""[48, 2, {}, "com.example.echo"]""");
        Assert.Equal("com.example.echo", first.Uri);
        Assert.Same(first.Uri, second.Uri);

        // Escaped, non-ASCII and long URIs, and URIs sharing a slot, are read exactly.
        Assert.Equal("com.example.echo", Parse("""[48, 3, {}, "com.example.e\u0063ho"]""").Uri);
        Assert.Equal("com.exämple.echo", Parse("""[48, 4, {}, "com.exämple.echo"]""").Uri);
        string longUri = "com." + new string('a', 200);
        Assert.Equal(longUri, Parse($"[48, 5, {{}}, \"{longUri}\"]").Uri);
        for (int i = 0; i < 1_000; i++) Assert.Equal("com.example.p" + i, Parse($"[48, {i + 6}, {{}}, \"com.example.p{i}\"]").Uri);
        Assert.Equal("com.example.echo", Parse("""[48, 9000, {}, "com.example.echo"]""").Uri);
    }

    [Fact]
    public void Custom_options_are_copied_byte_for_byte_and_other_keys_are_left_out()
    {
        var m = Parse("""[48, 1, {"timeout": 5, "x_deadline": 1234, "disclose_me": true, "x_trace": {"a": [1, "\u00e9"]}, "\u0078_escaped": "v", "xy": 1}, "com.example.echo"]""");
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            m.Dict.WriteCustomOptions(w);
            w.WriteEndObject();
        }
        Assert.Equal("""{"x_deadline":1234,"x_trace":{"a": [1, "\u00e9"]},"x_escaped":"v"}""", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
