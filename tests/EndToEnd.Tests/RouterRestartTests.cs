using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.EndToEnd.Tests;

[WampService("com.example.restart")]
public interface IRestartLedger
{
    [Idempotent]
    Task<int> Apply(int entry);
}

/// <summary>
/// The standalone router restarted under load, as a deploy (SIGTERM) and a crash (SIGKILL) would: callers and callees
/// with a reconnect policy come back on their own, the callee's registration is restored, and 1,000 idempotent
/// calls across both restarts have exactly 1,000 effects.
/// </summary>
public sealed class RouterRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private sealed class Ledger : IRestartLedger
    {
        public ConcurrentDictionary<int, int> Effects { get; } = new();

        public Task<int> Apply(int entry)
        {
            Effects.AddOrUpdate(entry, 1, static (_, n) => n + 1);
            return Task.FromResult(entry);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<PeerProcess> StartRouterAsync(int port)
    {
        string dll = RouterTool.Dll;
        var process = PeerProcess.Start("dotnet", [dll, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--realm", "realm1"], TimeSpan.FromMinutes(3));
        await process.WaitForLineAsync("listening on ", Bound);
        return process;
    }

    [Fact]
    public async Task Sessions_come_back_after_a_graceful_stop_and_a_kill_and_1000_idempotent_calls_have_1000_effects()
    {
        int port = FreePort();
        var url = new Uri($"ws://127.0.0.1:{port}/");
        var router = await StartRouterAsync(port);
        try
        {
            var options = new WampSessionOptions
            {
                Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(250) },
                // What a deployment that restarts its router sets: a caller may be back before the callee has
                // registered again, so five attempts over a second or more (gRPC's cap), a restart window that
                // covers a slow start of the new router (it counts from a call's first attempt, made before the
                // stop), and a budget for the four calls in flight to retry at each restart (the default, 10 tokens,
                // allows a burst of five).
                RetryPolicy = new WampRetryPolicy { MaxAttempts = 5, InitialBackoff = TimeSpan.FromMilliseconds(500), CalleeRestartWindow = Bound },
                RetryBudget = new WampRetryBudget { MaxTokens = 100 },
            };
            var ledger = new Ledger();
            await using var callee = await WampSession.ConnectAsync(url, "realm1", options);
            await using var registration = await callee.RegisterAsync<IRestartLedger>(ledger);
            await using var caller = await WampSession.ConnectAsync(url, "realm1", options);
            var proxy = caller.GetProxy<IRestartLedger>();

            const int total = 1_000;
            int next = 0, completed = 0;
            var milestones = new ConcurrentDictionary<int, TaskCompletionSource>();
            Task allDone = Task.CompletedTask;
            Task<Task> Reached(int count) => Task.WhenAny(milestones.GetOrAdd(count, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task, allDone);
            var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                for (int entry; (entry = Interlocked.Increment(ref next)) <= total;)
                {
                    Assert.Equal(entry, await proxy.Apply(entry));
                    int done = Interlocked.Increment(ref completed);
                    foreach (var (count, signal) in milestones)
                        if (done >= count) signal.TrySetResult();
                }
            })).ToArray();
            allDone = Task.WhenAll(workers);

            async Task<(TimeSpan Down, TimeSpan Back)> RestartAsync(bool graceful)
            {
                int before = Volatile.Read(ref completed);
                var clock = Stopwatch.StartNew();
                if (graceful)
                {
                    router.Terminate();
                    Assert.Equal(0, await router.WaitForExitAsync(Bound));
                }
                else
                {
                    router.Kill();
                    await router.WaitForExitAsync(Bound);
                }
                await router.DisposeAsync();
                router = await StartRouterAsync(port);
                var down = clock.Elapsed;
                await await Reached(Volatile.Read(ref completed) + 10).WaitAsync(Bound); // a failed worker fails the test here
                return (down, clock.Elapsed);
            }

            await await Reached(300).WaitAsync(Bound);
            var (stopDown, stopBack) = await RestartAsync(graceful: true);
            await await Reached(650).WaitAsync(Bound);
            var (killDown, killBack) = await RestartAsync(graceful: false);
            await Task.WhenAll(workers).WaitAsync(Bound);

            Assert.Equal(total, ledger.Effects.Count);
            Assert.Equal(total, ledger.Effects.Values.Sum());
            // Both are joined (or, on a loaded machine, rejoining once more), not ended.
            await caller.WaitUntilConnectedAsync().WaitAsync(Bound);
            await callee.WaitUntilConnectedAsync().WaitAsync(Bound);
            output.WriteLine($"SIGTERM: router back in {stopDown.TotalMilliseconds:0} ms, calls flowing again {stopBack.TotalMilliseconds:0} ms after the signal");
            output.WriteLine($"SIGKILL: router back in {killDown.TotalMilliseconds:0} ms, calls flowing again {killBack.TotalMilliseconds:0} ms after the kill");
            Console.WriteLine($"restart recovery: SIGTERM {stopDown.TotalMilliseconds:0}/{stopBack.TotalMilliseconds:0} ms, SIGKILL {killDown.TotalMilliseconds:0}/{killBack.TotalMilliseconds:0} ms (router back / calls flowing)");
        }
        finally
        {
            await router.DisposeAsync();
        }
    }
}
