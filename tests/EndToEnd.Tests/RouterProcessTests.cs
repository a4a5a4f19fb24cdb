using System.Diagnostics;
using WampContracts.Testing;

namespace WampContracts.EndToEnd.Tests;

/// <summary>The standalone router as its own process: started, used, killed or stopped like a real deployment.</summary>
public sealed class RouterProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<(PeerProcess Process, Uri Url)> StartRouterAsync(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "WampContracts.Router.dll");
        var process = PeerProcess.Start("dotnet", [dll, "--port", "0", .. args], TimeSpan.FromMinutes(2));
        string line = await process.WaitForLineAsync("listening on ", Bound);
        var url = new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));
        return (process, url);
    }

    [Fact]
    public async Task Killing_the_router_mid_call_fails_every_pending_call_within_one_second()
    {
        var (router, url) = await StartRouterAsync();
        await using var _ = router;
        await using var callee = await WampSession.ConnectAsync(url, "realm1");
        await using var caller = await WampSession.ConnectAsync(url, "realm1");
        int started = 0;
        var allStarted = new TaskCompletionSource();
        await using var registration = await callee.RegisterAsync("com.example.slow", async (inv, ct) =>
        {
            if (Interlocked.Increment(ref started) == 10) allStarted.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var calls = Enumerable.Range(0, 10).Select(_ => caller.CallAsync("com.example.slow")).ToArray();
        var stream = caller.StreamAsync("com.example.never_answers_either").GetAsyncEnumerator();
        await allStarted.Task.WaitAsync(Bound);

        router.Kill();
        var clock = Stopwatch.StartNew();
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(TimeSpan.FromSeconds(1) - clock.Elapsed));
            Assert.Equal(WampConnectionException.TransportLost, e.Reason);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"pending calls failed after {clock.Elapsed.TotalMilliseconds:0} ms");
        await caller.Completion.WaitAsync(Bound);
        Assert.False(caller.IsConnected);
    }

    [Fact]
    public async Task The_standalone_router_serves_its_realm_and_stops_cleanly_on_sigterm()
    {
        var (router, url) = await StartRouterAsync("--realm", "realm1");
        await using var _ = router;
        await using var session = await WampSession.ConnectAsync(url, "realm1");
        var refused = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(url, "other"));
        Assert.Equal("wamp.error.no_such_realm", refused.Reason);
        var count = await session.CallAsync("wamp.session.count");
        Assert.Equal(1, count.Payload.Arguments[0].GetInt32());

        router.Terminate();
        Assert.Equal(0, await router.WaitForExitAsync(Bound));
        Assert.Contains("stopping", router.Log);
        await session.Completion.WaitAsync(Bound);
        Assert.Equal("wamp.close.system_shutdown", session.CloseReason);
    }

    [Fact]
    public async Task Bad_arguments_are_refused_with_a_message_and_exit_code_2()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "WampContracts.Router.dll");
        await using var router = PeerProcess.Start("dotnet", [dll, "--port", "not-a-port"], Bound);
        Assert.Equal(2, await router.WaitForExitAsync(Bound));
        Assert.Contains("unknown or incomplete argument '--port'", router.Log);
    }
}
