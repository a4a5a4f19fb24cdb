using WampContracts.Serialization;
using WampContracts.Testing;

namespace WampContracts.EndToEnd.Tests;

/// <summary>The standalone router's <c>--rawsocket-port</c>: a second listener, for RawSocket clients of every serializer.</summary>
public sealed class StandaloneRawSocketTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_standalone_router_serves_RawSocket_with_rawsocket_port_beside_its_WebSocket()
    {
        string dll = RouterTool.Dll;
        await using var router = PeerProcess.Start("dotnet", [dll, "--port", "0", "--rawsocket-port", "0"], TimeSpan.FromMinutes(2));
        string line = await router.WaitForLineAsync("listening for RawSocket on ", Bound);
        var rawSocket = new Uri(line.Split(' ').Last());
        Assert.Equal("tcp", rawSocket.Scheme);
        var webSocket = new Uri(router.Log.Split(' ', '\n').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));

        await using var callee = await WampSession.ConnectAsync(rawSocket, "realm1", new WampSessionOptions { Serializers = [WampSerializer.MessagePack] }).WaitAsync(Bound);
        await callee.RegisterAsync("com.example.bytes", (invocation, _) =>
            ValueTask.FromResult(WampPayload.FromArgs(invocation.Payload.GetArgument<byte[]>(0).Reverse().ToArray()))).WaitAsync(Bound);
        await using var caller = await WampSession.ConnectAsync(webSocket, "realm1", new WampSessionOptions { Serializers = [WampSerializer.Cbor] }).WaitAsync(Bound);
        var result = await caller.CallAsync("com.example.bytes", WampPayload.FromArgs(new byte[] { 1, 2, 3, 0 })).WaitAsync(Bound);
        Assert.Equal(new byte[] { 0, 3, 2, 1 }, result.Payload.GetArgument<byte[]>(0));
    }

    [Fact]
    public async Task With_a_configuration_file_rawsocket_port_adds_the_listener()
    {
        string file = Path.Combine(Path.GetTempPath(), $"wire-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            {"version": 2, "workers": [{"type": "router",
                "realms": [{"name": "realm1", "roles": [{"name": "anonymous", "permissions": [{"uri": "", "match": "prefix", "allow": {"call": true, "register": true}}]}]}],
                "transports": [{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "interface": "127.0.0.1"}, "serializers": ["cbor", "json"]}]}]}
            """);
        try
        {
            string dll = RouterTool.Dll;
            await using var router = PeerProcess.Start("dotnet", [dll, "--config", file, "--port", "0", "--rawsocket-port", "0"], TimeSpan.FromMinutes(2));
            var rawSocket = new Uri((await router.WaitForLineAsync("listening for RawSocket on ", Bound)).Split(' ').Last());
            await using var session = await WampSession.ConnectAsync(rawSocket, "realm1", new WampSessionOptions { Serializers = [WampSerializer.Cbor] }).WaitAsync(Bound);
            await session.RegisterAsync("com.example.ping", (_, _) => ValueTask.FromResult(WampPayload.Empty)).WaitAsync(Bound);
            await session.CallAsync("com.example.ping").WaitAsync(Bound);
            // The file's serializers hold on RawSocket too: MessagePack is not among them.
            await Assert.ThrowsAsync<WampConnectionException>(() =>
                WampSession.ConnectAsync(rawSocket, "realm1", new WampSessionOptions { Serializers = [WampSerializer.MessagePack] }).WaitAsync(Bound));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_invalid_rawsocket_port_is_refused_at_startup()
    {
        string dll = RouterTool.Dll;
        await using var router = PeerProcess.Start("dotnet", [dll, "--rawsocket-port", "70000"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, await router.WaitForExitAsync(Bound));
        Assert.Contains("--rawsocket-port", router.Log);
    }
}
