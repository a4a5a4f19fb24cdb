using System.Text;
using WampContracts.Router.Configuration;
using WampContracts.Router.Core;

namespace WampContracts.Router.Tests;

/// <summary>The router's side of a backplane that does not need one running: its messages and its configuration.</summary>
public sealed class BackplaneTests
{
    [Fact]
    public void A_backplane_message_reads_back_as_written_with_its_payload_and_serializer_tag()
    {
        var message = new BackplaneMessage
        {
            Kind = BackplaneKind.Call, From = 7, To = 9, Realm = "realm1", Uri = "com.example.add", Id = 42, Session = 3, Target = 5,
            AuthId = "alice", AuthRole = "user", Flag = true, Raw = """{"timeout":100}"""u8.ToArray(),
            Payload = WampPayload.FromJson("[1,2]", """{"x":"y"}"""),
        };
        byte[] bytes = message.Encode();
        Assert.Contains("\"s\":\"json\"", Encoding.UTF8.GetString(bytes));
        var read = BackplaneMessage.Decode(bytes);
        Assert.Equal((BackplaneKind.Call, 7L, 9L, "realm1", "com.example.add", 42L, 3L, 5L, "alice", "user", true),
            (read.Kind, read.From, read.To, read.Realm, read.Uri, read.Id, read.Session, read.Target, read.AuthId, read.AuthRole, read.Flag));
        Assert.Equal("""{"timeout":100}""", Encoding.UTF8.GetString(read.Raw.Span));
        Assert.Equal("[1,2]", Encoding.UTF8.GetString(read.Payload.ArgumentsJson.Span));
        Assert.Equal("""{"x":"y"}""", Encoding.UTF8.GetString(read.Payload.KeywordArgumentsJson.Span));
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("not json after the head")]
    [InlineData("[1,2,3]")]
    [InlineData("""{"r": 5}""")]
    [InlineData("""{"r": "realm1", "i": "not a number"}""")]
    [InlineData("""{"r": "realm1", "i": 1e400}""")]
    [InlineData("""{"r": "realm1", "p": {"s": "msgpack", "a": [1]}}""")]
    [InlineData("""{"r": "realm1", "p": {"a": [1]}}""")]
    [InlineData("""{"r": "realm1", "f1": "yes"}""")]
    public void A_malformed_backplane_message_is_refused_with_a_format_error(string body)
    {
        byte[] head = new BackplaneMessage { Kind = BackplaneKind.Event, From = 1 }.Encode()[..18];
        byte[] bytes = body.Length < 6 ? Encoding.UTF8.GetBytes(body) : [.. head, .. Encoding.UTF8.GetBytes(body)];
        Assert.Throws<FormatException>(() => BackplaneMessage.Decode(bytes));
    }

    [Fact]
    public void A_message_of_another_version_is_not_read()
    {
        byte[] bytes = new BackplaneMessage { Kind = BackplaneKind.Event, From = 1, Realm = "r" }.Encode();
        bytes[0] = 2;
        Assert.False(BackplaneMessage.TryReadHead(bytes, out _, out _, out _));
        Assert.Throws<FormatException>(() => BackplaneMessage.Decode(bytes));
    }

    private static string Config(string backplane) => $$"""
        {"version": 2, "workers": [{"type": "router", "realms": [{"name": "realm1", "roles": []}], "backplane": {{backplane}}}]}
        """;

    [Fact]
    public void The_configuration_file_names_a_redis_backplane()
    {
        var config = WampRouterConfiguration.Parse(Config("""{"type": "redis", "endpoint": "10.0.0.5:6379"}"""));
        Assert.Equal("10.0.0.5:6379", config.RedisEndpoint);
        Assert.Null(WampRouterConfiguration.Parse("""{"version": 2, "workers": [{"type": "router", "realms": []}]}""").RedisEndpoint);
    }

    [Theory]
    [InlineData("""{"type": "kafka", "endpoint": "x:1"}""", "$.workers[0].backplane.type: backplane type 'kafka' is not supported")]
    [InlineData("""{"type": "redis"}""", "$.workers[0].backplane.endpoint: missing")]
    [InlineData("""{"type": "redis", "endpoint": "x:1", "password": "p"}""", "$.workers[0].backplane.password: unknown setting 'password' in a backplane")]
    public void A_wrong_backplane_setting_is_refused_naming_it(string backplane, string expected)
    {
        var e = Assert.Throws<WampConfigurationException>(() => WampRouterConfiguration.Parse(Config(backplane), "c.json"));
        Assert.Contains(expected, e.Message);
    }
}
