using WampContracts.Testing;

namespace WampContracts.EndToEnd.Tests;

/// <summary>The standalone router as its own process: started, used, killed or stopped like a real deployment.</summary>
public sealed class RouterProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<(PeerProcess Process, Uri Url)> StartRouterAsync(params string[] args)
    {
        string dll = RouterTool.Dll;
        var process = PeerProcess.Start("dotnet", [dll, "--port", "0", .. args], TimeSpan.FromMinutes(2));
        string line = await process.WaitForLineAsync("listening on ", Bound);
        var url = new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));
        return (process, url);
    }

    [Fact]
    public async Task Killing_the_router_mid_call_fails_every_pending_call_and_stream_with_transport_lost()
    {
        var (router, url) = await StartRouterAsync();
        await using var _ = router;
        await using var callee = await WampSession.ConnectAsync(url, "realm1");
        await using var caller = await WampSession.ConnectAsync(url, "realm1");
        const int Calls = 10;
        int started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<WampPayload> NeverAnswers(WampInvocation invocation, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref started) == Calls + 1) allStarted.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return default;
        }
        await using var slow = await callee.RegisterAsync("com.example.slow", NeverAnswers);
        await using var slowStream = await callee.RegisterAsync("com.example.slow_stream", NeverAnswers);
        var calls = Enumerable.Range(0, Calls).Select(_ => caller.CallAsync("com.example.slow")).ToArray();
        await using var stream = caller.StreamAsync("com.example.slow_stream").GetAsyncEnumerator();
        // A stream sends its CALL on the first MoveNextAsync; this one waits for a result that never comes.
        var next = stream.MoveNextAsync().AsTask();
        await allStarted.Task.WaitAsync(Bound);
        Assert.False(next.IsCompleted);

        router.Kill();
        // Lost with the transport, not timed out: a call timeout would fail them with WampTimeoutException instead.
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<WampConnectionException>(() => call.WaitAsync(Bound));
            Assert.Equal(WampConnectionException.TransportLost, e.Reason);
        }
        var streamLost = await Assert.ThrowsAsync<WampConnectionException>(() => next.WaitAsync(Bound));
        Assert.Equal(WampConnectionException.TransportLost, streamLost.Reason);
        await caller.Completion.WaitAsync(Bound);
        Assert.False(caller.IsConnected);
        Assert.Equal(WampConnectionException.TransportLost, caller.CloseReason);
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
    public async Task The_standalone_router_serves_the_realms_and_rules_of_a_config_file()
    {
        var (router, url) = await StartRouterAsync("--config", Path.Combine(AppContext.BaseDirectory, "RouterConfig", "config.json"));
        await using var _ = router;
        Assert.Contains("(realms: bank)", router.Log);
        var refused = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(url, "realm1"));
        Assert.Equal("wamp.error.no_such_realm", refused.Reason);

        // Our client joins as "anonymous", which the file allows to call and subscribe under com.bank., and nothing else.
        await using var session = await WampSession.ConnectAsync(new Uri(url, "ws"), "bank");
        var call = await Assert.ThrowsAsync<WampException>(() => session.CallAsync("com.bank.balance"));
        Assert.Equal("wamp.error.no_such_procedure", call.Uri);
        var register = await Assert.ThrowsAsync<WampException>(() => session.RegisterAsync("com.bank.balance", static (inv, _) => ValueTask.FromResult(inv.Payload)));
        Assert.Equal("wamp.error.not_authorized", register.Uri);
        var meta = await Assert.ThrowsAsync<WampException>(() => session.CallAsync("wamp.session.count"));
        Assert.Equal("wamp.error.not_authorized", meta.Uri);

        router.Terminate();
        Assert.Equal(0, await router.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task An_invalid_config_file_is_refused_naming_the_setting_with_exit_code_2()
    {
        string dll = RouterTool.Dll;
        string file = Path.Combine(Path.GetTempPath(), $"wampcontracts-config-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            {"version": 2, "workers": [{"type": "router", "realms": [{"name": "bank", "roles": [{"name": "anonymous",
                "permissions": [{"uri": "com.bank.", "match": "prefix", "allow": {"call": true, "subscribe": "yes"}}]}]}]}]}
            """);
        try
        {
            await using var router = PeerProcess.Start("dotnet", [dll, "--config", file], Bound);
            Assert.Equal(2, await router.WaitForExitAsync(Bound));
            Assert.Contains($"{file}: $.workers[0].realms[0].roles[0].permissions[0].allow.subscribe: expected true or false", router.Log);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Bad_arguments_are_refused_with_a_message_and_exit_code_2()
    {
        string dll = RouterTool.Dll;
        await using var router = PeerProcess.Start("dotnet", [dll, "--port", "not-a-port"], Bound);
        Assert.Equal(2, await router.WaitForExitAsync(Bound));
        Assert.Contains("unknown or incomplete argument '--port'", router.Log);
    }

    [Fact]
    public async Task A_node_timeout_without_a_backplane_is_refused_at_startup()
    {
        await using var router = PeerProcess.Start("dotnet", [RouterTool.Dll, "--port", "0", "--node-timeout", "3"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, await router.WaitForExitAsync(Bound));
        Assert.Contains("--node-timeout applies to a backplane", router.Log);
    }
}
