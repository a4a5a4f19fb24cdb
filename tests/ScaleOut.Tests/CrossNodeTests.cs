using System.Collections.Concurrent;
using System.Diagnostics;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.ScaleOut.Tests;

/// <summary>Three standalone router processes sharing one Redis serve one realm as one router.</summary>
public sealed class CrossNodeTests(ITestOutputHelper output)
{
    private const string Realm = "realm1";

    [Fact]
    public async Task Three_nodes_route_10000_calls_roundrobin_over_three_replicas_and_deliver_10000_events_to_every_subscriber_exactly_once_in_order()
    {
        await using var redis = await RedisServer.StartAsync();
        var (p1, url1) = await RouterNodes.StartAsync(redis);
        await using var _1 = p1;
        var (p2, url2) = await RouterNodes.StartAsync(redis);
        await using var _2 = p2;
        var (p3, url3) = await RouterNodes.StartAsync(redis);
        await using var _3 = p3;

        // Callees: three replicas sharing the procedure (roundrobin), two on node 2 and one on node 3.
        var served = new int[3];
        var replicas = new List<WampSession>();
        var urls = new[] { url2, url2, url3 };
        for (int r = 0; r < 3; r++)
        {
            int replica = r;
            var session = await WampSession.ConnectAsync(urls[r], Realm);
            replicas.Add(session);
            await session.RegisterAsync("com.example.add", (inv, _) =>
            {
                Interlocked.Increment(ref served[replica]);
                long sum = inv.Payload.Arguments[0].GetInt64() + inv.Payload.Arguments[1].GetInt64();
                return ValueTask.FromResult(WampPayload.FromArgs(sum));
            }, new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin });
        }

        // Subscribers on every node, each checking it gets every event once, in the publisher's order.
        const int Events = 10_000, Calls = 10_000;
        var subscribers = new List<(WampSession Session, List<long> Seen, TaskCompletionSource Done)>();
        foreach (var url in new[] { url1, url2, url3 })
        {
            var session = await WampSession.ConnectAsync(url, Realm);
            var seen = new List<long>();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await session.SubscribeAsync("com.example.tick", (ev, _) =>
            {
                lock (seen)
                {
                    seen.Add(ev.Payload.Arguments[0].GetInt64());
                    if (seen.Count == Events) done.TrySetResult();
                }
                return ValueTask.CompletedTask;
            });
            subscribers.Add((session, seen, done));
        }

        await using var caller = await WampSession.ConnectAsync(url1, Realm);
        await using var publisher = await WampSession.ConnectAsync(url1, Realm);
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.add", 3);

        var clock = Stopwatch.StartNew();
        using var window = new SemaphoreSlim(64);
        var calls = Enumerable.Range(0, Calls).Select(async i =>
        {
            await window.WaitAsync();
            try
            {
                var result = await caller.CallAsync("com.example.add", WampPayload.FromArgs(i, 1_000_000));
                return (i, result.Payload.Arguments[0].GetInt64());
            }
            finally
            {
                window.Release();
            }
        }).ToArray();
        var publishing = Task.Run(async () =>
        {
            for (long seq = 0; seq < Events; seq++)
                await publisher.PublishAsync("com.example.tick", WampPayload.FromArgs(seq), new WampPublishOptions { Acknowledge = seq % 100 == 99 });
        });
        var results = await Task.WhenAll(calls).WaitAsync(RouterNodes.Bound);
        await publishing.WaitAsync(RouterNodes.Bound);
        await Task.WhenAll(subscribers.Select(s => s.Done.Task)).WaitAsync(RouterNodes.Bound);
        clock.Stop();

        foreach (var (i, sum) in results) Assert.Equal(i + 1_000_000, sum);
        Assert.Equal(Calls, served.Sum());
        // Roundrobin from node 1 over the three replicas: each gets a third.
        foreach (int n in served) Assert.InRange(n, Calls / 3 - 1, Calls / 3 + 1);
        foreach (var (_, seen, _) in subscribers)
        {
            lock (seen) Assert.Equal(Enumerable.Range(0, Events).Select(i => (long)i), seen);
        }
        string line = $"cross-node: {Calls} calls (roundrobin over 3 replicas on nodes 2 and 3: {string.Join("/", served)}) and {Events} events to 3 subscribers on 3 nodes in {clock.Elapsed.TotalSeconds:0.0} s";
        output.WriteLine(line);
        RouterNodes.Report(line);
        foreach (var s in subscribers) await s.Session.DisposeAsync();
        foreach (var s in replicas) await s.DisposeAsync();
    }

    [Fact]
    public async Task Calls_to_a_callee_on_a_killed_node_fail_within_the_node_timeout_and_its_registration_leaves_the_meta_api_of_the_survivors()
    {
        const double NodeTimeoutSeconds = 2;
        await using var redis = await RedisServer.StartAsync();
        var (p1, url1) = await RouterNodes.StartAsync(redis, NodeTimeoutSeconds);
        await using var _1 = p1;
        var (p2, url2) = await RouterNodes.StartAsync(redis, NodeTimeoutSeconds);
        await using var _2 = p2;
        var (doomed, url3) = await RouterNodes.StartAsync(redis, NodeTimeoutSeconds);
        await using var _3 = doomed;

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var callee = await WampSession.ConnectAsync(url3, Realm);
        await callee.RegisterAsync("com.example.slow", async (inv, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        await using var caller = await WampSession.ConnectAsync(url1, Realm);
        await using var observer = await WampSession.ConnectAsync(url2, Realm);
        await RouterNodes.WaitForCalleesAsync(caller, "com.example.slow", 1);
        await RouterNodes.WaitForCalleesAsync(observer, "com.example.slow", 1);

        var call = caller.CallAsync("com.example.slow");
        await started.Task.WaitAsync(RouterNodes.Bound);
        var clock = Stopwatch.StartNew();
        doomed.Kill();
        var failure = await Assert.ThrowsAsync<WampException>(() => call.WaitAsync(RouterNodes.Bound));
        var callFailed = clock.Elapsed;
        // As for a callee that left: wamp.error.canceled, which callers retry when the call is safe to repeat.
        Assert.Equal("wamp.error.canceled", failure.Uri);
        Assert.Contains("stopped answering", failure.Message);

        // The survivors forget the registration, each at its own next heartbeat: the caller's node already has (its call
        // failed for that reason), the other within one more heartbeat interval.
        var lookup = await caller.CallAsync("wamp.registration.lookup", WampPayload.FromArgs("com.example.slow"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, lookup.Payload.Arguments[0].ValueKind);
        using (var gone = new CancellationTokenSource(RouterNodes.Bound))
            while ((await observer.CallAsync("wamp.registration.lookup", WampPayload.FromArgs("com.example.slow"))).Payload.Arguments[0].ValueKind != System.Text.Json.JsonValueKind.Null)
                await Task.Delay(20, gone.Token);
        var observerForgot = clock.Elapsed;
        var none = await Assert.ThrowsAsync<WampException>(() => caller.CallAsync("com.example.slow"));
        Assert.Equal("wamp.error.no_such_procedure", none.Uri);

        // Death is noticed within the node timeout plus one heartbeat interval (a fifth of it).
        string line = $"node death: a call to a callee on a killed node failed {callFailed.TotalMilliseconds:0} ms after the kill; the other survivor dropped its registration after {observerForgot.TotalMilliseconds:0} ms (node timeout {NodeTimeoutSeconds * 1000:0} ms, bound {NodeTimeoutSeconds * 1200:0} ms)";
        output.WriteLine(line);
        RouterNodes.Report(line);
    }

    [Fact]
    public async Task A_single_registration_is_single_across_nodes_and_shared_ones_must_agree_on_the_policy()
    {
        await using var redis = await RedisServer.StartAsync();
        var (p1, url1) = await RouterNodes.StartAsync(redis);
        await using var _1 = p1;
        var (p2, url2) = await RouterNodes.StartAsync(redis);
        await using var _2 = p2;
        await using var a = await WampSession.ConnectAsync(url1, Realm);
        await using var b = await WampSession.ConnectAsync(url2, Realm);
        static ValueTask<WampPayload> Echo(WampInvocation inv, CancellationToken _) => ValueTask.FromResult(inv.Payload);

        await a.RegisterAsync("com.example.single", Echo);
        var refused = await Assert.ThrowsAsync<WampException>(() => b.RegisterAsync("com.example.single", Echo));
        Assert.Equal("wamp.error.procedure_already_exists", refused.Uri);

        await a.RegisterAsync("com.example.shared", Echo, new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin });
        var mismatch = await Assert.ThrowsAsync<WampException>(() => b.RegisterAsync("com.example.shared", Echo, new WampRegisterOptions { Invoke = WampInvokePolicy.Random }));
        Assert.Equal("wamp.error.procedure_exists_with_different_invocation_policy", mismatch.Uri);
        await b.RegisterAsync("com.example.shared", Echo, new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin });
        await RouterNodes.WaitForCalleesAsync(a, "com.example.shared", 2);
    }

    [Fact]
    public async Task Routers_started_with_a_config_file_naming_the_redis_backplane_form_one_router()
    {
        await using var redis = await RedisServer.StartAsync();
        string file = Path.Combine(Path.GetTempPath(), $"wampcontracts-backplane-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, $$$"""
            {"version": 2, "workers": [{"type": "router", "backplane": {"type": "redis", "endpoint": "{{{redis.Endpoint}}}"},
              "realms": [{"name": "bank", "roles": [{"name": "anonymous",
                "permissions": [{"uri": "com.bank.", "match": "prefix", "allow": {"call": true, "register": true}}]}]}]}]}
            """);
        try
        {
            string dll = WampContracts.Testing.RouterTool.Dll;
            var urls = new List<Uri>();
            var routers = new List<PeerProcess>();
            for (int i = 0; i < 2; i++)
            {
                var process = PeerProcess.Start("dotnet", [dll, "--config", file, "--port", "0"], TimeSpan.FromMinutes(2));
                routers.Add(process);
                string line = await process.WaitForLineAsync("listening on ", RouterNodes.Bound);
                urls.Add(new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal))));
            }
            try
            {
                await using var callee = await WampSession.ConnectAsync(urls[1], "bank");
                await using var caller = await WampSession.ConnectAsync(urls[0], "bank");
                await callee.RegisterAsync("com.bank.balance", (inv, _) => ValueTask.FromResult(WampPayload.FromArgs(100)));
                // The registration reaches node 1 over Redis: retry, bounded, until it has.
                using var timeout = new CancellationTokenSource(RouterNodes.Bound);
                while (true)
                {
                    try
                    {
                        var balance = await caller.CallAsync("com.bank.balance");
                        Assert.Equal(100, balance.Payload.Arguments[0].GetInt32());
                        break;
                    }
                    catch (WampException e) when (e.Uri == "wamp.error.no_such_procedure")
                    {
                        await Task.Delay(50, timeout.Token);
                    }
                }
            }
            finally
            {
                foreach (var router in routers) await router.DisposeAsync();
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
