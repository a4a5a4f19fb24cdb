using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WampContracts.Tests;

public sealed record Conference(string Name, string Where, int Id, byte[]? Logo = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(WampBinaryConverter)])]
[JsonSerializable(typeof(Conference))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

public class PayloadUnitTests
{
    [Fact]
    public void Arguments_are_read_by_index_without_parsing_the_others()
    {
        var p = WampPayload.FromJson("""[123, {"name": "deSymfony", "where": "Madrid", "id": 123}, "x"]""", """{"limit": 10}""");
        Assert.Equal(3, p.ArgumentCount);
        Assert.Equal(123, p.GetArgument(0, TestJsonContext.Default.Int32));
        Assert.Equal(new Conference("deSymfony", "Madrid", 123), p.GetArgument(1, TestJsonContext.Default.Conference));
        Assert.Equal(10, p.GetKeywordArgument("limit", TestJsonContext.Default.Int32));
        Assert.Equal(7, p.GetKeywordArgument("missing", TestJsonContext.Default.Int32, 7));
        Assert.Equal(5, p.GetArgumentOrDefault(3, TestJsonContext.Default.Int32, 5));
    }

    [Fact]
    public void A_missing_or_mistyped_argument_is_an_invalid_argument_error()
    {
        var p = WampPayload.FromJson("""["not a number"]""");
        var wrongType = Assert.Throws<WampException>(() => p.GetArgument(0, TestJsonContext.Default.Int32));
        Assert.Equal("wamp.error.invalid_argument", wrongType.Uri);
        Assert.Contains("positional argument 0", wrongType.Message);
        var missing = Assert.Throws<WampException>(() => p.GetArgument(1, TestJsonContext.Default.Int32));
        Assert.Contains("positional argument 1 is missing", missing.Message);
    }

    [Theory]
    [InlineData("{}", null)]
    [InlineData("[1", null)]
    [InlineData("[1] [2]", null)]
    [InlineData(null, "[]")]
    public void FromJson_refuses_what_is_not_an_array_and_an_object(string? args, string? kwargs) =>
        Assert.Throws<ArgumentException>(() => WampPayload.FromJson(args, kwargs));

    [Fact]
    public void Binary_values_use_the_wamp_json_rule()
    {
        byte[] bytes = Convert.FromHexString("10e3ff9053075c526f5fc06d4fe37cdb");
        var p = new WampPayloadBuilder().AddArgument(new Conference("c", "w", 1, bytes), TestJsonContext.Default.Conference).Build();
        string json = Encoding.UTF8.GetString(p.ArgumentsJson.Span);
        Assert.Contains("\"logo\":\"\\u0000EOP/kFMHXFJvX8BtT+N82w==\"", json);
        Assert.Equal(bytes, p.GetArgument(0, TestJsonContext.Default.Conference).Logo);
        Assert.True(WampJson.TryDecodeBinary(WampJson.EncodeBinary(bytes), out var back));
        Assert.Equal(bytes, back);
        Assert.False(WampJson.TryDecodeBinary("EOP/kFMHXFJvX8BtT+N82w==", out _));
    }

    [Fact]
    public void The_builder_writes_positional_and_keyword_arguments_and_can_be_reused()
    {
        var b = new WampPayloadBuilder();
        var first = b.AddArgument(1, TestJsonContext.Default.Int32).AddArgument("two", TestJsonContext.Default.String)
            .AddKeywordArgument("k", 3, TestJsonContext.Default.Int32).Build();
        Assert.Equal("""[1,"two"]""", Encoding.UTF8.GetString(first.ArgumentsJson.Span));
        Assert.Equal("""{"k":3}""", Encoding.UTF8.GetString(first.KeywordArgumentsJson.Span));
        var second = b.AddArgument(9, TestJsonContext.Default.Int32).Build();
        Assert.Equal("[9]", Encoding.UTF8.GetString(second.ArgumentsJson.Span));
        Assert.False(second.HasKeywordArguments);
    }

    [Fact]
    public void A_wamp_exception_carries_its_uri_and_message_argument()
    {
        var e = new WampException("com.example.error.not_found", "conference 9 not found");
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Equal("conference 9 not found", e.Args[0].GetString());
        Assert.Equal("com.example.error.not_found: conference 9 not found", e.Message);
    }
}
