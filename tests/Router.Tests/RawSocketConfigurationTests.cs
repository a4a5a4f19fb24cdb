using WampContracts.Router.Configuration;
using WampContracts.Serialization;

namespace WampContracts.Router.Tests;

/// <summary>A Crossbar.io-shaped <c>rawsocket</c> transport beside the WebSocket one, and the serializers of both.</summary>
public class RawSocketConfigurationTests
{
    private static string Config(string transports) => $$$"""
        {"version": 2, "workers": [{"type": "router",
            "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {"call": true, "register": true, "publish": true, "subscribe": true}}]}]}],
            "transports": [{{{transports}}}]}]}
        """;

    private const string WebSocket = """{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"}, "serializers": ["msgpack", "json"]}""";

    [Fact]
    public void A_rawsocket_transport_becomes_the_RawSocket_listener_with_the_serializers_of_the_file()
    {
        var config = WampRouterConfiguration.Parse(Config(WebSocket + """, {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "interface": "127.0.0.1"}, "serializers": ["json", "msgpack"], "options": {"max_message_size": 65536}}"""));
        var options = config.ToOptions();
        Assert.Equal(8080, options.Port);
        Assert.Equal(8081, options.RawSocketPort);
        Assert.Equal(65536, options.MaxMessageSize);
        Assert.Equal([WampSerializer.MessagePack, WampSerializer.Json], options.Serializers);
    }

    [Fact]
    public void Without_a_rawsocket_transport_there_is_no_RawSocket_listener_and_every_serializer_is_accepted()
    {
        var options = WampRouterConfiguration.Parse(Config("""{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080}}""")).ToOptions();
        Assert.Null(options.RawSocketPort);
        Assert.Null(options.Serializers);
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        { """{"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}, "serializers": ["ubjson"]}""", "$.workers[0].transports[0].serializers[0]", "'ubjson' is not supported" },
        { """{"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}, "auth": {"anonymous": {}}}""", "$.workers[0].transports[0].auth", "takes its authentication from the realms" },
        { """{"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "tls": {"certificate": "a.pem", "key": "a.key"}}}""", "$.workers[0].transports[0].endpoint.tls", "not supported" },
        { """{"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081}}, {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8082}}""", "$.workers[0].transports[1]", "a second rawsocket transport" },
        { WebSocket + """, {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "interface": "127.0.0.1"}, "serializers": ["cbor"]}""", "$.workers[0].transports[1].serializers", "the same ones on both" },
        { WebSocket + """, {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "interface": "0.0.0.0"}}""", "$.workers[0].transports[1].endpoint.interface", "one address" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void What_the_router_cannot_serve_is_refused_with_its_path(string transports, string path, string problem)
    {
        var e = Assert.Throws<WampConfigurationException>(() => WampRouterConfiguration.Parse(Config(transports)));
        Assert.Equal(path, e.JsonPath);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public async Task A_router_started_from_the_file_serves_RawSocket()
    {
        var options = WampRouterConfiguration.Parse(Config("""{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"}}, {"type": "rawsocket", "endpoint": {"type": "tcp", "port": 8081, "interface": "127.0.0.1"}}""")).ToOptions(port: 0, rawSocketPort: 0);
        await using var router = await WampRouter.StartAsync(options);
        await using var session = await WampSession.ConnectAsync(router.RawSocketUrl!, "realm1", new WampSessionOptions { Serializers = [WampSerializer.Cbor] }).WaitAsync(SocketClient.Bound);
        await session.RegisterAsync("com.example.ping", (_, _) => ValueTask.FromResult(WampPayload.Empty)).WaitAsync(SocketClient.Bound);
        await session.CallAsync("com.example.ping").WaitAsync(SocketClient.Bound);
    }
}
