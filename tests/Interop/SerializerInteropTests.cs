using System.Text.Json;
using WampContracts.Router;
using WampContracts.Serialization;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// Autobahn|JS and Autobahn|Python with each of their serializers, over WebSocket and RawSocket (Autobahn|JS's speaks
/// JSON only), calling, being called and subscribing through our router, against our sessions speaking other
/// serializers: the router translates, and binary values cross byte for byte.
/// </summary>
public sealed class SerializerInteropTests
{
    private static readonly byte[] EventBytes = [5, 6, 0, 7, 0xff];
    private static readonly byte[] CallBytes = [0xde, 0xad, 0, 0xbe, 0xef];

    private static WampSerializer Of(string name) => WampSerializer.All.Single(s => s.Name == name);

    /// <summary>A serializer other than the peer's, so every exchange is translated.</summary>
    private static WampSerializer Other(string name, int step) => WampSerializer.All[(Array.FindIndex([.. WampSerializer.All], s => s.Name == name) + step) % 3];

    public static TheoryData<string, string> Python => new()
    {
        { "json", "ws" }, { "msgpack", "ws" }, { "cbor", "ws" },
        { "json", "rs" }, { "msgpack", "rs" }, { "cbor", "rs" },
    };

    public static TheoryData<string, string> Js => new() { { "json", "ws" }, { "msgpack", "ws" }, { "cbor", "ws" }, { "json", "rs" } };

    [Theory]
    [MemberData(nameof(Python))]
    public Task Autobahn_Python_calls_is_called_and_subscribes_through_our_router(string serializer, string transport) =>
        RunAsync(serializer, transport, "py_echo", (router, url) => PeerProcess.Start("/usr/bin/python3",
            ["wire.py", "--url", transport == "rs" ? $"rs://127.0.0.1:{router.RawSocketUrl!.Port}" : url.ToString(), "--serializer", serializer],
            TimeSpan.FromSeconds(40), Peers.Directory));

    [Theory]
    [MemberData(nameof(Js))]
    public Task Autobahn_JS_calls_is_called_and_subscribes_through_our_router(string serializer, string transport) =>
        RunAsync(serializer, transport, "js_echo", (router, url) => PeerProcess.Start("node",
            transport == "rs" ? ["wire.js", "--rawsocket", $"127.0.0.1:{router.RawSocketUrl!.Port}"] : ["wire.js", "--url", url.ToString(), "--serializer", serializer],
            TimeSpan.FromSeconds(40), Peers.Directory));

    private static async Task RunAsync(string serializer, string transport, string peerEcho, Func<WampRouter, Uri, PeerProcess> start)
    {
        _ = Peers.Directory; // the peers are installed
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { RawSocketPort = 0 });
        // Our callee, publisher and caller each speak another serializer than the peer (and over the other transport).
        var calleeSerializer = Other(serializer, 1);
        await using var callee = await WampSession.ConnectAsync(transport == "rs" ? router.Url! : router.RawSocketUrl!, "realm1",
            new WampSessionOptions { Serializers = [calleeSerializer] }).WaitAsync(Peers.Bound);
        await callee.RegisterAsync("com.example.wire.echo", (invocation, _) => ValueTask.FromResult(invocation.Payload)).WaitAsync(Peers.Bound);
        await using var other = await WampSession.ConnectAsync(router.Url!, "realm1", new WampSessionOptions { Serializers = [Other(serializer, 2)] }).WaitAsync(Peers.Bound);

        await using var peer = start(router, router.Url!);
        await peer.WaitForLineAsync("READY", Peers.Bound);

        var result = await other.CallAsync("com.example.wire." + peerEcho, WampPayload.FromArgs([CallBytes, "x"], new Dictionary<string, object?> { ["k"] = CallBytes })).WaitAsync(Peers.Bound);
        Assert.Equal(CallBytes, result.Payload.GetArgument<byte[]>(0));
        Assert.Equal("x", result.Payload.GetArgument<string>(1));
        Assert.Equal(CallBytes, result.Payload.GetKeywordArgument<byte[]>("k", (System.Text.Json.Serialization.Metadata.JsonTypeInfo<byte[]>)WampJson.DefaultOptions.GetTypeInfo(typeof(byte[])), [])!);

        await other.PublishAsync("com.example.wire.events", WampPayload.FromArgs([EventBytes, "evt", 7], new Dictionary<string, object?> { ["n"] = 1 }),
            new WampPublishOptions { Acknowledge = true }).AsTask().WaitAsync(Peers.Bound);

        int exit = await peer.WaitForExitAsync(Peers.Bound);
        Assert.True(exit == 0 && peer.Log.Contains("DONE"), $"the peer ({serializer}, {transport}) failed (exit {exit}):\n{peer.Log}");
        Assert.Contains("READY " + serializer, peer.Log);

        var echo = Line(peer.Log, "ECHO ");
        Assert.Equal("""{"args":[{"$bytes":"0001027f80ff00"},"ü",42,1.5,null,true,[1,2]],"kwargs":{"bin":{"$bytes":"0908"}}}""", Normalize(echo));
        var evt = Line(peer.Log, "EVENT ");
        Assert.Equal("""{"args":[{"$bytes":"05060007ff"},"evt",7],"kwargs":{"n":1}}""", Normalize(evt));
    }

    private static JsonElement Line(string log, string prefix) =>
        JsonDocument.Parse(log.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..]).RootElement;

    private static string Normalize(JsonElement e) => JsonSerializer.Serialize(e, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
