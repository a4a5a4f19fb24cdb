using System.Net;
using System.Net.WebSockets;
using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>
/// <see cref="WampRouterOptions.AllowedOrigins"/>: a browser page of another origin gets HTTP 403 before any WebSocket
/// is accepted; clients that send no Origin (not browsers) are let in unless told otherwise. Raw ClientWebSockets
/// set the Origin header as a browser would.
/// </summary>
public sealed class OriginTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private const string App = "https://app.example.com";

    private static async Task<(WebSocketState State, HttpStatusCode Status, ClientWebSocket Socket)> UpgradeAsync(WampRouter router, string? origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("wamp.2.json");
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        try
        {
            await socket.ConnectAsync(router.Url!, CancellationToken.None).WaitAsync(Bound);
        }
        catch (WebSocketException)
        {
        }
        return (socket.State, socket.HttpStatusCode, socket);
    }

    private static async Task AssertRefusedAsync(WampRouter router, string? origin)
    {
        // Connections of earlier steps may still be closing: the refused one must not add to them.
        int before = router.ConnectionCount;
        var (state, status, socket) = await UpgradeAsync(router, origin);
        socket.Dispose();
        Assert.NotEqual(WebSocketState.Open, state);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.True(router.ConnectionCount <= before, $"{router.ConnectionCount} connections after the refusal, {before} before");
    }

    /// <summary>The upgrade is accepted and the session joins.</summary>
    private static async Task AssertJoinsAsync(WampRouter router, string? origin)
    {
        var (state, status, socket) = await UpgradeAsync(router, origin);
        using var _ = socket;
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
        Assert.Equal(WebSocketState.Open, state);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""[1, "realm1", {"roles": {"caller": {}}}]"""), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[64 * 1024];
        var r = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WampMessageType.Welcome, WampMessageParser.Parse(buffer.AsSpan(0, r.Count).ToArray()).Type);
        socket.Abort();
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("null")]
    [InlineData("file://")]
    [InlineData("http://app.example.com")]          // same host, other scheme
    [InlineData("https://app.example.com:8443")]    // same host, other port
    [InlineData("https://app.example.com.evil.example")]
    [InlineData("")]
    public async Task An_origin_not_in_the_list_is_refused_with_403_before_the_upgrade(string origin)
    {
        var log = new CapturingLoggerFactory();
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, AllowedOrigins = [App], LoggerFactory = log });
        await AssertRefusedAsync(router, origin);
        Assert.Contains(log.Entries, e => e.Id.Id == 2005 && e.Message.Contains("not in AllowedOrigins"));
    }

    [Theory]
    [InlineData(App)]
    [InlineData("HTTPS://APP.EXAMPLE.COM")]   // scheme and host are case-insensitive
    [InlineData("http://localhost:5173")]
    public async Task An_origin_in_the_list_joins(string origin)
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, AllowedOrigins = [App, "http://localhost:5173"] });
        await AssertJoinsAsync(router, origin);
    }

    [Fact]
    public async Task Without_an_origin_header_a_client_joins_unless_origins_are_required()
    {
        await using (var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, AllowedOrigins = [App] }))
            await AssertJoinsAsync(router, origin: null);
        await using (var strict = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, AllowedOrigins = [App], AllowMissingOrigin = false }))
        {
            await AssertRefusedAsync(strict, origin: null);
            await AssertJoinsAsync(strict, App);
        }
    }

    [Fact]
    public async Task Null_and_file_origins_join_only_when_listed()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, AllowedOrigins = ["null", "file://"] });
        await AssertJoinsAsync(router, "null");
        await AssertJoinsAsync(router, "file://");
        await AssertRefusedAsync(router, App);
    }

    [Fact]
    public async Task Without_a_list_any_origin_joins_as_a_development_router_should()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        await AssertJoinsAsync(router, "http://evil.example");
        await AssertJoinsAsync(router, "null");
    }

    [Theory]
    [InlineData("https://app.example.com/")]
    [InlineData("https://app.example.com/path")]
    [InlineData("app.example.com")]
    [InlineData("*")]
    [InlineData("https://*.example.com")]
    [InlineData("")]
    public void An_entry_that_is_not_an_origin_is_refused_at_start(string entry)
    {
        var e = Assert.Throws<ArgumentException>(() => WampRouter.CreateInMemory(new WampRouterOptions { AllowedOrigins = [entry] }));
        Assert.Contains($"'{entry}'", e.Message);
    }
}
