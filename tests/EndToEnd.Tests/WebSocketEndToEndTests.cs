using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;



/// <summary>Our client against our router over real WebSockets on loopback.</summary>
public sealed class WebSocketEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private WampRouter _router = null!;

    public async Task InitializeAsync() => _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });

    public async Task DisposeAsync() => await _router.DisposeAsync();

    private Task<WampSession> ConnectAsync(WampSessionOptions? options = null) => WampSession.ConnectAsync(_router.Url!, "realm1", options);

    [Fact]
    public async Task The_router_listens_on_loopback_and_reports_its_url()
    {
        Assert.Equal("ws", _router.Url!.Scheme);
        Assert.Equal("127.0.0.1", _router.Url.Host);
        Assert.NotEqual(0, _router.Url.Port);
    }

    [Fact]
    public async Task A_call_returns_the_conference_and_a_callee_error_arrives_intact()
    {
        await using var callee = await ConnectAsync();
        await using var caller = await ConnectAsync();
        await using var registration = await callee.RegisterAsync("com.example.conferences.get", (inv, ct) =>
        {
            int id = inv.Payload.GetArgument<int>(0);
            if (id != 123)
                throw new WampException("com.example.error.not_found", WampPayload.FromArgs([$"conference {id} not found"], new Dictionary<string, object?> { ["id"] = id }));
            return ValueTask.FromResult(WampPayload.FromArgs(new Conference("deSymfony", "Madrid", 123)));
        });

        var result = await caller.CallAsync("com.example.conferences.get", WampPayload.FromArgs(123)).WaitAsync(Bound);
        Assert.Equal(new Conference("deSymfony", "Madrid", 123), result.Payload.GetArgument<Conference>(0));

        var e = await Assert.ThrowsAsync<WampException>(() => caller.CallAsync("com.example.conferences.get", WampPayload.FromArgs(999)).WaitAsync(Bound));
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Equal("conference 999 not found", e.Args[0].GetString());
        Assert.Equal(999, e.Kwargs.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Progressive_results_flow_from_callee_to_caller()
    {
        await using var callee = await ConnectAsync();
        await using var caller = await ConnectAsync();
        await using var registration = await callee.RegisterAsync("com.example.import", async (inv, ct) =>
        {
            for (int i = 1; i <= 3; i++) await inv.SendProgressAsync(WampPayload.FromArgs(i), ct);
            return WampPayload.FromArgs("done");
        });
        var seen = new List<string>();
        await foreach (var r in caller.StreamAsync("com.example.import").WithCancellation(new CancellationTokenSource(Bound).Token))
            seen.Add((r.IsProgress ? "p" : "f") + r.Payload.Arguments[0]);
        Assert.Equal(["p1", "p2", "p3", "fdone"], seen);
    }

    [Fact]
    public async Task A_callers_cancellation_interrupts_the_callee()
    {
        await using var callee = await ConnectAsync();
        await using var caller = await ConnectAsync();
        var started = new TaskCompletionSource();
        var interrupted = new TaskCompletionSource();
        await using var registration = await callee.RegisterAsync("com.example.slow", async (inv, ct) =>
        {
            using var _ = ct.Register(() => interrupted.TrySetResult());
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        using var cts = new CancellationTokenSource();
        var call = caller.CallAsync("com.example.slow", default, null, cts.Token);
        await started.Task.WaitAsync(Bound);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
        await interrupted.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_call_timeout_ends_the_call_with_WampTimeoutException_and_stops_the_callee()
    {
        await using var callee = await ConnectAsync();
        await using var caller = await ConnectAsync();
        var canceled = new TaskCompletionSource();
        await using var registration = await callee.RegisterAsync("com.example.slow", async (inv, ct) =>
        {
            using var _ = ct.Register(() => canceled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var e = await Assert.ThrowsAsync<WampTimeoutException>(() =>
            caller.CallAsync("com.example.slow", default, new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(100) }).WaitAsync(Bound));
        Assert.Equal("com.example.slow", e.Procedure);
        Assert.Equal(TimeSpan.FromMilliseconds(100), e.Limit);
        await canceled.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task Events_reach_subscribers_and_an_acknowledged_publish_returns_its_id()
    {
        await using var subscriber = await ConnectAsync();
        await using var publisher = await ConnectAsync();
        var got = new TaskCompletionSource<WampEvent>();
        await using var subscription = await subscriber.SubscribeAsync("com.example.conferences.updated", (e, ct) =>
        {
            got.TrySetResult(e);
            return default;
        });
        long publication = await publisher.PublishAsync("com.example.conferences.updated",
            WampPayload.FromArgs(new Conference("deSymfony", "Madrid", 123)), new WampPublishOptions { Acknowledge = true, DiscloseMe = true });
        var evt = await got.Task.WaitAsync(Bound);
        Assert.Equal(publication, evt.PublicationId);
        Assert.Equal(publisher.SessionId, evt.Publisher);
        Assert.Equal("Madrid", evt.Payload.GetArgument<Conference>(0).Where);
    }

    [Fact]
    public async Task Disposing_the_router_says_goodbye_to_its_sessions()
    {
        var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        var session = await WampSession.ConnectAsync(router.Url!, "realm1");
        await router.DisposeAsync();
        await session.Completion.WaitAsync(Bound);
        Assert.Equal("wamp.close.system_shutdown", session.CloseReason);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task A_realm_the_router_does_not_serve_is_refused_with_its_reason()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, Realms = ["realm1"] });
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(router.Url!, "realm2"));
        Assert.Equal("wamp.error.no_such_realm", e.Reason);
    }

    [Fact]
    public async Task Connecting_to_a_port_with_no_router_fails_with_a_connection_exception()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), "realm1"));
        Assert.Equal(WampConnectionException.TransportLost, e.Reason);
    }

    [Fact]
    public async Task A_plain_http_request_gets_an_explanation_not_a_hang()
    {
        using var http = new HttpClient { Timeout = Bound };
        var response = await http.GetAsync(new UriBuilder(_router.Url!) { Scheme = "http" }.Uri);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Contains("wamp.2.json", await response.Content.ReadAsStringAsync());
    }
}
