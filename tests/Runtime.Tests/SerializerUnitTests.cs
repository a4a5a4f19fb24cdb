using System.Formats.Cbor;
using System.Text;
using System.Text.Json;
using WampContracts.Protocol;
using WampContracts.Serialization;

namespace WampContracts.Tests;

public class SerializerUnitTests
{
    public static TheoryData<string> Binary => new() { "msgpack", "cbor" };

    private static WampSerializer Of(string name) => WampSerializer.All.Single(s => s.Name == name);

    private static byte[] Encode(WampSerializer serializer, string json)
    {
        byte[] buffer = [];
        int n = serializer.FromJson(Encoding.UTF8.GetBytes(json), ref buffer);
        return buffer.AsSpan(0, n).ToArray();
    }

    private static string Decode(WampSerializer serializer, byte[] message) => Encoding.UTF8.GetString(serializer.ToJson(message));

    [Fact]
    public void Subprotocols_and_RawSocket_ids_are_the_specs()
    {
        Assert.Equal(["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"], WampSerializer.All.Select(s => s.Subprotocol));
        Assert.Equal([1, 2, 3], WampSerializer.All.Select(s => (int)s.RawSocketId));
        Assert.Same(WampSerializer.Cbor, WampSerializer.FromSubprotocol("wamp.2.cbor"));
        Assert.Same(WampSerializer.MessagePack, WampSerializer.FromRawSocketId(2));
        Assert.Null(WampSerializer.FromSubprotocol("wamp.2.ubjson"));
        Assert.Null(WampSerializer.FromRawSocketId(4));
        Assert.False(WampSerializer.Json.IsBinary);
    }

    [Fact]
    public void A_HELLO_is_written_in_the_shortest_MessagePack_and_CBOR_forms()
    {
        const string hello = """[1,"realm1",{"roles":{"caller":{}}}]""";
        Assert.Equal(Convert.FromHexString("93" + "01" + "a6" + "7265616c6d31" + "81" + "a5" + "726f6c6573" + "81" + "a6" + "63616c6c6572" + "80"),
            Encode(WampSerializer.MessagePack, hello));
        Assert.Equal(Convert.FromHexString("83" + "01" + "66" + "7265616c6d31" + "a1" + "65" + "726f6c6573" + "a1" + "66" + "63616c6c6572" + "a0"),
            Encode(WampSerializer.Cbor, hello));
    }

    [Theory]
    [MemberData(nameof(Binary))]
    public void Messages_round_trip_through_a_binary_serializer(string name)
    {
        var serializer = Of(name);
        string[] messages =
        [
            """[48,1,{"timeout":1000,"x_key":"a\"b\\c\u0001"},"com.example.add",[1,-1,-33,200,-200,70000,-70000,4294967296,-4294967297,9007199254740992,18446744073709551615,0.5,-1.25e-7,true,false,null,"",[],{}],{"k":{"nested":[[[]]]}}]""",
            """[36,5,6,{},["text with ünïcødé and 🎉",{"a":1}]]""",
            """[70,7,{},["\u0000AQID/w=="]]""",
            """[2,1,{"roles":{}}]""",
        ];
        foreach (var json in messages)
        {
            var binary = Encode(serializer, json);
            string back = Decode(serializer, binary);
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(json).RootElement, JsonDocument.Parse(back).RootElement), back);
            // Transcoding again gives the same bytes.
            Assert.Equal(binary, Encode(serializer, back));
        }
    }

    [Theory]
    [MemberData(nameof(Binary))]
    public void A_JSON_number_past_doubles_range_is_sent_as_infinity_and_refused_on_the_way_back(string name)
    {
        var serializer = Of(name);
        var binary = Encode(serializer, "[48,1,{},\"p\",[1e400,-1e400]]");
        var e = Assert.Throws<WampProtocolException>(() => serializer.ToJson(binary));
        Assert.Contains("JSON cannot carry", e.Message);
    }

    [Fact]
    public void Binary_values_become_MessagePack_bin_and_come_back_as_JSON_binary_strings()
    {
        byte[] bytes = [0x10, 0xe3, 0xff, 0x90, 0x00];
        var msgpack = Encode(WampSerializer.MessagePack, $$"""[70,7,{},["{{"\\u0000" + Convert.ToBase64String(bytes)}}","\u0000not base64!"]]""");
        // The oracle: an independent MessagePack reader sees a bin of those bytes, then a str (not valid Base64 stays text).
        var reader = new MessagePack.MessagePackReader(msgpack);
        Assert.Equal(4, reader.ReadArrayHeader());
        Assert.Equal(70, reader.ReadInt32());
        Assert.Equal(7, reader.ReadInt32());
        Assert.Equal(0, reader.ReadMapHeader());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(MessagePack.MessagePackType.Binary, reader.NextMessagePackType);
        Assert.Equal(bytes, System.Buffers.BuffersExtensions.ToArray(reader.ReadBytes()!.Value));
        Assert.Equal("\0not base64!", reader.ReadString());
        Assert.True(reader.End);

        Assert.Equal("""[70,7,{},["\u0000EOP/kAA=","\u0000not base64!"]]""", Decode(WampSerializer.MessagePack, msgpack));
    }

    [Fact]
    public void Binary_values_become_CBOR_byte_strings_and_come_back_as_JSON_binary_strings()
    {
        byte[] bytes = Convert.FromHexString("10e3ff9053075c526f5fc06d4fe37cdb");
        var cbor = Encode(WampSerializer.Cbor, """[16,1,{},"t",["\u0000EOP/kFMHXFJvX8BtT+N82w=="]]""");
        var reader = new CborReader(cbor);
        Assert.Equal(5, reader.ReadStartArray());
        Assert.Equal(16, reader.ReadInt32());
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal(0, reader.ReadStartMap());
        reader.ReadEndMap();
        Assert.Equal("t", reader.ReadTextString());
        Assert.Equal(1, reader.ReadStartArray());
        Assert.Equal(bytes, reader.ReadByteString());
    }

    [Fact]
    public void What_an_independent_MessagePack_writer_sends_is_read()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePack.MessagePackWriter(buffer);
        w.WriteArrayHeader(5);
        w.Write(50); w.Write(3L); w.WriteMapHeader(1); w.Write("progress"); w.Write(true);
        w.WriteArrayHeader(3); w.Write(1.5f); w.Write(new byte[] { 1, 2, 3 }); w.WriteNil();
        w.WriteMapHeader(1); w.Write("n"); w.Write(ulong.MaxValue);
        w.Flush();
        Assert.Equal("""[50,3,{"progress":true},[1.5,"\u0000AQID",null],{"n":18446744073709551615}]""", Decode(WampSerializer.MessagePack, buffer.WrittenSpan.ToArray()));
    }

    [Fact]
    public void What_an_independent_CBOR_writer_sends_is_read_indefinite_lengths_tags_and_half_floats_included()
    {
        var w = new CborWriter(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);
        w.WriteStartArray(null);
        w.WriteInt32(50); w.WriteInt64(-5);
        w.WriteStartMap(null); w.WriteTextString("k"); w.WriteHalf((Half)0.5); w.WriteEndMap();
        w.WriteTag(CborTag.DateTimeString); w.WriteTextString("2026-01-01T00:00:00Z");
        w.WriteStartIndefiniteLengthByteString(); w.WriteByteString([1, 2]); w.WriteByteString([3]); w.WriteEndIndefiniteLengthByteString();
        w.WriteStartIndefiniteLengthTextString(); w.WriteTextString("ab"); w.WriteTextString("c"); w.WriteEndIndefiniteLengthTextString();
        w.WriteSimpleValue(CborSimpleValue.Undefined);
        w.WriteEndArray();
        Assert.Equal("""[50,-5,{"k":0.5},"2026-01-01T00:00:00Z","\u0000AQID","abc",null]""", Decode(WampSerializer.Cbor, w.Encode()));
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "msgpack", "93 01", "declares 3 elements" },
        { "msgpack", "91 a5 61", "ends in the middle" },
        { "msgpack", "c1", "0xc1" },
        { "msgpack", "91 d4 01 02", "extension type" },
        { "msgpack", "91 01 02", "trailing data" },
        { "msgpack", "dd ff ff ff ff 01", "declares" },
        { "msgpack", "91 81 01 02", "map key that is not a string" },
        { "msgpack", "91 cb 7f f8 00 00 00 00 00 00", "JSON cannot carry" },
        { "msgpack", "91 a2 c3 28", "not valid UTF-8" },
        { "msgpack", "db ff ff ff ff 41", "ends in the middle" },
        { "msgpack", "91 c6 7f ff ff ff 00", "ends in the middle" },
        { "msgpack", "", "ends in the middle" },
        { "cbor", "82 01", "declares 2 elements" },
        { "cbor", "81 65 61", "ends in the middle" },
        { "cbor", "81 1c", "reserved length" },
        { "cbor", "81 ff", "break" },
        { "cbor", "9b ff ff ff ff ff ff ff ff 01", "more elements" },
        { "cbor", "81 a1 01 02", "map key that is not a string" },
        { "cbor", "81 f9 7c 00", "JSON cannot carry" },
        { "cbor", "81 f0", "simple value" },
        { "cbor", "81 7f 41 00 ff", "chunk of another type" },
        { "cbor", "81 5b 00 00 00 00 ff ff ff ff", "ends in the middle" },
        { "cbor", "81 62 c3 28", "not valid UTF-8" },
        { "cbor", "81 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 c1 01", "tags" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_binary_messages_are_refused_with_a_message_saying_why(string name, string hex, string why)
    {
        var e = Assert.Throws<WampProtocolException>(() => Of(name).ToJson(Convert.FromHexString(hex.Replace(" ", ""))));
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [MemberData(nameof(Binary))]
    public void Nesting_past_the_parser_limit_transcodes_and_is_refused_as_a_limit_but_nesting_past_the_transcoder_limit_is_malformed(string name)
    {
        var serializer = Of(name);
        byte array1 = name == "msgpack" ? (byte)0x91 : (byte)0x81;
        // CALL [48, 1, {}, "p", [[[...1...]]]]: the payload nests.
        byte[] call = name == "msgpack" ? [0x95, 0x30, 0x01, 0x80, 0xa1, (byte)'p'] : [0x85, 0x18, 0x30, 0x01, 0xa0, 0x61, (byte)'p'];
        byte[] Nested(int depth) => [.. call, .. Enumerable.Repeat(array1, depth), 0x01];

        var json = serializer.ToJson(Nested(100));
        var limit = Assert.Throws<WampProtocolException>(() => WampMessageParser.Parse(json));
        Assert.True(limit.ExceedsLimit, limit.Message);

        var deep = Assert.Throws<WampProtocolException>(() => serializer.ToJson(Nested(100_000)));
        Assert.Contains("deeper than", deep.Message);
    }

    [Theory]
    [MemberData(nameof(Binary))]
    public void The_head_of_a_cut_off_message_names_its_request(string name)
    {
        var serializer = Of(name);
        var whole = Encode(serializer, $$"""[48,77,{"acknowledge":true},"com.example.big",["{{new string('x', 10_000)}}"]]""");
        var head = serializer.ToJsonHead(whole.AsSpan(0, 100));
        Assert.True(WampMessageParser.TryParseHead(head, out var type, out long id, out _, out _));
        Assert.Equal((WampMessageType.Call, 77L), (type, id));
        Assert.Empty(serializer.ToJsonHead([0xc1]));
    }
}
