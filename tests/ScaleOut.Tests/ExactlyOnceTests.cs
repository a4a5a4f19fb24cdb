using StackExchange.Redis;
using WampContracts.ScaleOut.Replica;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.ScaleOut.Tests;

/// <summary>
/// [Idempotent] calls through a cluster while a callee replica process and then a router node process are killed:
/// callers fail over and retry, retries land on other replicas, and the shared idempotency store in Redis keeps every
/// effect single.
/// </summary>
public sealed class ExactlyOnceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Idempotent_calls_take_effect_exactly_once_while_a_replica_and_then_a_router_node_are_killed()
    {
        const int Calls = 1_000;
        await using var redis = await RedisServer.StartAsync();
        var (p1, url1) = await RouterNodes.StartAsync(redis, nodeTimeoutSeconds: 2);
        await using var _1 = p1;
        var (node2, url2) = await RouterNodes.StartAsync(redis, nodeTimeoutSeconds: 2);
        await using var _2 = node2;
        var (p3, url3) = await RouterNodes.StartAsync(redis, nodeTimeoutSeconds: 2);
        await using var _3 = p3;

        // Replicas on nodes 2 and 3, each failing over along its list.
        var replicas = new List<PeerProcess>();
        foreach (var urls in new[] { new[] { url2, url3, url1 }, new[] { url3, url2, url1 }, new[] { url3, url1, url2 } })
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "ScaleOut.Replica.dll");
            var replica = PeerProcess.Start("dotnet", [dll, "--redis", redis.Endpoint, .. urls.SelectMany(u => new[] { "--url", u.ToString() }), "--work-ms", "100"],
                TimeSpan.FromMinutes(5));
            replicas.Add(replica);
            await replica.WaitForLineAsync("replica ready", RouterNodes.Bound);
        }
        try
        {
            // The caller starts on node 2, which is killed later: it fails over to node 1.
            await using var caller = await WampSession.ConnectToClusterAsync([url2, url1, url3], "realm1", new WampSessionOptions
            {
                Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) },
                RetryPolicy = new WampRetryPolicy { MaxAttempts = 5, CalleeRestartWindow = TimeSpan.FromSeconds(20) },
                // Two kills fail many calls at once: every one of them may retry.
                RetryBudget = new WampRetryBudget { MaxTokens = 10_000 },
            });
            await RouterNodes.WaitForCalleesAsync(caller, "com.example.ledger.apply", 3);
            var ledger = caller.GetProxy<ILedger>();

            int completed = 0;
            var killReplica = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var killNode = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var check = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
            var db = check.GetDatabase();
            var kills = Task.Run(async () =>
            {
                await killReplica.Task;
                // Killed mid-work: once two of its calls are held before their effect.
                await db.StringSetAsync(Ledger.FreezeKey(replicas[2].Id), 1);
                using var frozen = new CancellationTokenSource(RouterNodes.Bound);
                while ((long)await db.StringGetAsync(Ledger.FrozenKey) < 2) await Task.Delay(20, frozen.Token);
                replicas[2].Kill();
                await killNode.Task;
                node2.Kill();
            });
            using var window = new SemaphoreSlim(16);
            var calls = Enumerable.Range(0, Calls).Select(async i =>
            {
                await window.WaitAsync();
                try
                {
                    int entry = await ledger.Apply(i);
                    int done = Interlocked.Increment(ref completed);
                    if (done == Calls / 5) killReplica.TrySetResult();
                    if (done == Calls / 2) killNode.TrySetResult();
                    return entry;
                }
                finally
                {
                    window.Release();
                }
            }).ToArray();
            var entries = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(3));
            await kills.WaitAsync(RouterNodes.Bound);
            Assert.Equal(Enumerable.Range(0, Calls), entries);

            long effects = (long)await db.StringGetAsync(Ledger.EffectsKey);
            if (effects != Calls)
            {
                var log = (await db.ListRangeAsync(Ledger.LogKey)).Select(v => (string)v!).ToArray();
                var twice = log.GroupBy(l => l.Split(' ')[0]).Where(g => g.Count() > 1).SelectMany(g => g);
                output.WriteLine($"replicas: {string.Join(", ", replicas.Select(r => r.Id))}; effects twice:\n{string.Join("\n", twice)}");
                foreach (var r in replicas) output.WriteLine(r.Log);
            }
            Assert.Equal(Calls, effects);
            var perEntry = await db.HashGetAllAsync(Ledger.PerEntryKey);
            Assert.Equal(Calls, perEntry.Length);
            Assert.All(perEntry, e => Assert.Equal(1, (long)e.Value));
            string line = $"exactly once: {Calls} [Idempotent] calls, a replica process and then a router node killed mid-run: {(long)await db.StringGetAsync(Ledger.EffectsKey)} effects";
            output.WriteLine(line);
            RouterNodes.Report(line);
        }
        finally
        {
            foreach (var replica in replicas) await replica.DisposeAsync();
        }
    }
}
