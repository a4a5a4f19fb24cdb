using WampContracts.Router;
using WampContracts.Router.Redis;

namespace WampContracts.ScaleOut.Tests;

/// <summary>Two embedded routers joined by <c>UseRedisBackplane</c>: call features and broker options across nodes, and losing Redis.</summary>
public sealed class EmbeddedNodesTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private RedisServer _redis = null!;
    private WampRouter _a = null!, _b = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _a = await WampRouter.StartAsync(new WampRouterOptions().UseRedisBackplane(_redis.Endpoint, o => o.NodeTimeout = TimeSpan.FromSeconds(2)));
        _b = await WampRouter.StartAsync(new WampRouterOptions().UseRedisBackplane(_redis.Endpoint, o => o.NodeTimeout = TimeSpan.FromSeconds(2)));
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Task<WampSession> OnA() => WampSession.ConnectAsync(_a.Url!, "realm1");

    private Task<WampSession> OnB() => WampSession.ConnectAsync(_b.Url!, "realm1");

    [Fact]
    public async Task Progressive_results_errors_cancel_and_timeout_cross_nodes()
    {
        // The callee's clock is a fake that never moves: it enforces no time limit of its own.
        await using var callee = await WampSession.ConnectAsync(_b.Url!, "realm1",
            new WampSessionOptions { TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() });
        await using var caller = await OnA();
        var interrupted = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await callee.RegisterAsync("com.example.count", async (inv, ct) =>
        {
            for (int i = 0; i < 3; i++) await inv.SendProgressAsync(WampPayload.FromArgs(i), ct);
            return WampPayload.FromArgs("done");
        });
        await callee.RegisterAsync("com.example.decline", (inv, ct) => throw new WampException("com.example.error.declined", "not today"));
        await callee.RegisterAsync("com.example.hang", async (inv, ct) =>
        {
            using var _ = ct.Register(() => interrupted.TrySetResult(inv.Payload.Arguments[0].GetString()!));
            running.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.hang", 1);

        var results = new List<string>();
        await foreach (var r in caller.StreamAsync("com.example.count").WithCancellation(new CancellationTokenSource(Bound).Token))
            results.Add(r.Payload.Arguments[0].ToString());
        Assert.Equal(["0", "1", "2", "done"], results);

        var declined = await Assert.ThrowsAsync<WampException>(() => caller.CallAsync("com.example.decline"));
        Assert.Equal("com.example.error.declined", declined.Uri);

        // CANCEL from the caller's node interrupts the callee on the other node.
        using (var cancel = new CancellationTokenSource())
        {
            var call = caller.CallAsync("com.example.hang", WampPayload.FromArgs("canceled"), cancellationToken: cancel.Token);
            await running.Task.WaitAsync(Bound);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
            Assert.Equal("canceled", await interrupted.Task.WaitAsync(Bound));
        }

        // A call's time limit is enforced by the dealer on the callee's node, which interrupts the callee there (the
        // caller's and the callee's clocks are fakes that never move, so only the router's limit can end the call).
        interrupted = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var patient = await WampSession.ConnectAsync(_a.Url!, "realm1",
            new WampSessionOptions { TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() });
        var timedOut = patient.CallAsync("com.example.hang", WampPayload.FromArgs("timed out"), new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        await Assert.ThrowsAsync<WampTimeoutException>(() => timedOut.WaitAsync(Bound));
        Assert.Equal("timed out", await interrupted.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task Cancel_modes_kill_and_skip_cross_nodes()
    {
        await using var callee = await OnB();
        await using var caller = await OnA();
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await callee.RegisterAsync("com.example.work", async (inv, ct) =>
        {
            started.TrySetResult(ct);
            await finish.Task.WaitAsync(ct);
            return WampPayload.FromArgs("finished");
        });
        await callee.RegisterAsync("com.example.ping", (inv, _) => ValueTask.FromResult(inv.Payload));
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.work", 1);
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.ping", 1);

        // kill: the callee on node B is interrupted, and its answer (canceled) ends the call on node A.
        using (var cancel = new CancellationTokenSource())
        {
            var call = caller.CallAsync("com.example.work", default, new WampCallOptions { CancelMode = WampCancelMode.Kill }, cancel.Token);
            var token = await started.Task.WaitAsync(Bound);
            cancel.Cancel();
            var e = await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(Bound));
            Assert.True(e is OperationCanceledException || e is WampException { Uri: "wamp.error.canceled" }, e.ToString());
            Assert.True(token.IsCancellationRequested);
        }

        // skip: the call ends on node A at once; the callee is not interrupted and its late answer is dropped.
        started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var cancel = new CancellationTokenSource())
        {
            var call = caller.CallAsync("com.example.work", default, new WampCallOptions { CancelMode = WampCancelMode.Skip }, cancel.Token);
            var token = await started.Task.WaitAsync(Bound);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
            // A later call travels the same ordered channel: had an INTERRUPT been sent, the callee would have it by now.
            await caller.CallAsync("com.example.ping", WampPayload.FromArgs(1));
            Assert.False(token.IsCancellationRequested);
            finish.SetResult();
            Assert.Equal(2, (await caller.CallAsync("com.example.ping", WampPayload.FromArgs(2))).Payload.Arguments[0].GetInt32());
        }
    }

    [Fact]
    public async Task Session_ids_carry_their_node_slot_so_no_two_nodes_hand_out_the_same_id()
    {
        // Once a registration on B is seen on A, both nodes have joined the backplane and hold their slots.
        await using var probe = await OnB();
        await using var watcher = await OnA();
        await probe.RegisterAsync("com.example.probe", (inv, _) => ValueTask.FromResult(inv.Payload));
        await RouterNodes.WaitForCalleesAsync(watcher, "com.example.probe", 1);
        var sessions = new List<WampSession>();
        for (int i = 0; i < 5; i++)
        {
            sessions.Add(await OnA());
            sessions.Add(await OnB());
        }
        var slotsA = sessions.Where((_, i) => i % 2 == 0).Select(s => s.SessionId & 1023).Distinct().ToArray();
        var slotsB = sessions.Where((_, i) => i % 2 == 1).Select(s => s.SessionId & 1023).Distinct().ToArray();
        Assert.Single(slotsA);
        Assert.Single(slotsB);
        Assert.NotEqual(slotsA[0], slotsB[0]);
        Assert.Equal(sessions.Count, sessions.Select(s => s.SessionId).Distinct().Count());
        foreach (var s in sessions) await s.DisposeAsync();
    }

    [Fact]
    public async Task Events_from_another_node_honour_exclude_eligible_and_pattern_subscriptions()
    {
        await using var s1 = await OnB();
        await using var s2 = await OnB();
        await using var s3 = await OnB();
        await using var publisher = await OnA();
        var got1 = new List<string>();
        var got2 = new List<string>();
        var got3 = new List<(string Topic, string Text)>();
        var end1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var end2 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var end3 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        static WampEventHandler Collect(List<string> into, TaskCompletionSource end) => (ev, _) =>
        {
            string text = ev.Payload.Arguments[0].GetString()!;
            lock (into) into.Add(text);
            if (text == "end") end.TrySetResult();
            return ValueTask.CompletedTask;
        };
        await s1.SubscribeAsync("com.example.news", Collect(got1, end1));
        await s2.SubscribeAsync("com.example.news", Collect(got2, end2));
        await s3.SubscribeAsync("com.example.", (ev, _) =>
        {
            string text = ev.Payload.Arguments[0].GetString()!;
            lock (got3) got3.Add((ev.Topic, text));
            if (text == "end") end3.TrySetResult();
            return ValueTask.CompletedTask;
        }, new WampSubscribeOptions { Match = WampMatch.Prefix });

        await publisher.PublishAsync("com.example.news", WampPayload.FromArgs("not for s1"), new WampPublishOptions { Acknowledge = true, Exclude = [s1.SessionId] });
        await publisher.PublishAsync("com.example.news", WampPayload.FromArgs("only for s1"), new WampPublishOptions { Acknowledge = true, Eligible = [s1.SessionId] });
        await publisher.PublishAsync("com.example.news", WampPayload.FromArgs("end"), new WampPublishOptions { Acknowledge = true });
        await Task.WhenAll(end1.Task, end2.Task, end3.Task).WaitAsync(Bound);

        Assert.Equal(["only for s1", "end"], got1);
        Assert.Equal(["not for s1", "end"], got2);
        Assert.Equal([("com.example.news", "not for s1"), ("com.example.news", "end")], got3);
    }

    [Fact]
    public async Task Losing_redis_refuses_cross_node_work_with_a_clear_error_and_the_nodes_recover_when_it_returns()
    {
        await using var callee = await OnB();
        await using var caller = await OnA();
        await using var local = await OnA();
        await callee.RegisterAsync("com.example.echo", (inv, _) => ValueTask.FromResult(inv.Payload),
            new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin });
        await local.RegisterAsync("com.example.local", (inv, _) => ValueTask.FromResult(inv.Payload));
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.echo", 1);
        Assert.Equal(1, (await caller.CallAsync("com.example.echo", WampPayload.FromArgs(1))).Payload.Arguments[0].GetInt32());

        await _redis.KillAsync();
        // Until node A has noticed, its publications and calls may still wait for Redis's timeout; then they are refused.
        using (var timeout = new CancellationTokenSource(Bound))
        {
            while (true)
            {
                var published = await Record(() => publisher(caller));
                if (published?.Uri == "wampcontracts.error.backplane_unavailable") break;
                await Task.Delay(50, timeout.Token);
            }
        }
        var call = await Assert.ThrowsAsync<WampException>(() => caller.CallAsync("com.example.echo", WampPayload.FromArgs(2)));
        Assert.Equal("wampcontracts.error.backplane_unavailable", call.Uri);
        Assert.Contains("unreachable", call.Message);
        // Work within one node goes on; a new registration is refused (no other node can be asked whether it is taken).
        Assert.Equal(4, (await caller.CallAsync("com.example.local", WampPayload.FromArgs(4))).Payload.Arguments[0].GetInt32());
        var register = await Assert.ThrowsAsync<WampException>(() => local.RegisterAsync("com.example.other", (inv, _) => ValueTask.FromResult(inv.Payload)));
        Assert.Equal("wampcontracts.error.backplane_unavailable", register.Uri);

        await _redis.RestartAsync();
        using (var timeout = new CancellationTokenSource(Bound))
        {
            while (true)
            {
                try
                {
                    var r = await caller.CallAsync("com.example.echo", WampPayload.FromArgs(3));
                    Assert.Equal(3, r.Payload.Arguments[0].GetInt32());
                    break;
                }
                catch (WampException e) when (e.Uri is "wampcontracts.error.backplane_unavailable" or "wamp.error.no_such_procedure")
                {
                    await Task.Delay(50, timeout.Token);
                }
            }
        }

        static Task publisher(WampSession s) => s.PublishAsync("com.example.news", WampPayload.FromArgs("x"), new WampPublishOptions { Acknowledge = true }).AsTask();
    }

    private static async Task<WampException?> Record(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (WampException e)
        {
            return e;
        }
    }
}
