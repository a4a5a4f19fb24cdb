using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.EndToEnd.Tests;

// Alone, after the other tests: its CPU load must not slow them, and theirs must not blur its runs.
[CollectionDefinition(nameof(ShutdownSignalTests), DisableParallelization = true)]
public sealed class ShutdownSignalCollection;

/// <summary>
/// The standalone router and the demo host as their own processes, stopped the ways a supervisor stops them while
/// the machine is busy: SIGTERM to the process; SIGTERM to the process and its group, then SIGCONT (as coreutils'
/// <c>timeout</c> does); SIGTERM twice in quick succession; SIGINT to the group (Ctrl+C in a terminal). Every run must
/// take the one graceful shutdown: "stopping" printed once, GOODBYE <c>wamp.close.system_shutdown</c> to each joined
/// session before its socket closes, exit code 0 within the configured shutdown timeout. And a shutdown held up by a
/// peer past that timeout ends the process anyway, with code 0.
/// </summary>
[Collection(nameof(ShutdownSignalTests))]
public sealed class ShutdownSignalTests(ITestOutputHelper output)
{
    private const int Runs = 20;
    private const string ShutdownTimeoutSeconds = "10";
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    // The process's own clock starts when it handles the signal, and the runtime needs a moment to exit after Main.
    private static readonly TimeSpan ExitBound = ShutdownTimeout + TimeSpan.FromSeconds(5);

    // Starting a .NET process (and, for the demo, its console client) on a loaded two-core machine.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    // Every process started here is killed after this, whatever happens.
    private static readonly TimeSpan ProcessLifetime = TimeSpan.FromMinutes(2);

    // Upper bound on the busy threads, in case a test never reaches its end.
    private static readonly TimeSpan LoadLifetime = TimeSpan.FromMinutes(5);

    public enum Delivery
    {
        SigtermToProcess,
        SigtermToProcessAndGroupThenSigcont,
        SigtermTwiceInQuickSuccession,
        SigintToGroup,
    }

    [Fact]
    public Task The_standalone_router_stops_gracefully_however_sigterm_or_sigint_is_delivered() =>
        RunAllAsync(
            "router",
            RouterTool.Dll,
            ["--port", "0", "--realm", "realm1", "--shutdown-timeout", ShutdownTimeoutSeconds],
            urlMarker: "listening on ", readyMarker: null, realm: "realm1");

    [Fact]
    public Task The_demo_host_in_serve_mode_stops_gracefully_however_sigterm_or_sigint_is_delivered() =>
        RunAllAsync(
            "demo",
            Path.Combine(AppContext.BaseDirectory, "Conferences.dll"),
            ["--serve", "--port", "0", "--shutdown-timeout", ShutdownTimeoutSeconds],
            urlMarker: "router: ", readyMarker: "serving until", realm: "conferences");

    [Fact]
    public async Task A_router_whose_graceful_shutdown_outlasts_the_shutdown_timeout_exits_anyway_with_code_0()
    {
        string dll = RouterTool.Dll;
        await using var process = PeerProcess.Start("dotnet", [dll, "--port", "0", "--realm", "realm1", "--shutdown-timeout", "1"], ProcessLifetime);
        string line = await process.WaitForLineAsync("listening on ", StartBound);
        var url = new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));

        // A peer that joins, then never answers the router's GOODBYE nor closes: the router would wait for it for its
        // whole handshake timeout (10 s), far past the 1 s the process is given.
        using var peer = new ClientWebSocket();
        peer.Options.AddSubProtocol("wamp.2.json");
        using var connecting = new CancellationTokenSource(StartBound);
        await peer.ConnectAsync(url, connecting.Token);
        await peer.SendAsync("""[1, "realm1", {"roles": {"caller": {}}}]"""u8.ToArray(), WebSocketMessageType.Text, true, connecting.Token);
        var buffer = new byte[4096];
        var welcome = await peer.ReceiveAsync(buffer, connecting.Token);
        Assert.StartsWith("[2,", Encoding.UTF8.GetString(buffer, 0, welcome.Count));

        process.Terminate();
        using var closing = new CancellationTokenSource(ExitBound);
        var received = await peer.ReceiveAsync(buffer, closing.Token);
        string goodbye = Encoding.UTF8.GetString(buffer, 0, received.Count);
        Assert.StartsWith("[6,", goodbye);
        Assert.Contains("\"wamp.close.system_shutdown\"", goodbye);
        Assert.Equal(0, await process.WaitForExitAsync(ExitBound));
        Assert.Contains("stopping", process.Log);
        Assert.Contains("the shutdown did not finish within 1 s; exiting anyway", process.Log);
    }

    private async Task RunAllAsync(string name, string dll, string[] args, string urlMarker, string? readyMarker, string realm)
    {
        Assert.True(File.Exists(dll), $"{dll} is missing");
        var durations = new List<(Delivery Delivery, bool Sessions, TimeSpan Elapsed)>();
        var total = Stopwatch.StartNew();
        using (CpuLoad.Start(Environment.ProcessorCount, LoadLifetime))
        {
            for (int i = 0; i < Runs; i++)
            {
                var delivery = (Delivery)(i % 4);
                // Half of the runs with sessions, and every way of delivery both with and without them.
                bool withSessions = (i + i / 4) % 2 == 1;
                var elapsed = await RunOnceAsync($"{name} run {i + 1}/{Runs} ({delivery}, {(withSessions ? "2 sessions" : "no session")})",
                    dll, args, urlMarker, readyMarker, realm, delivery, withSessions);
                durations.Add((delivery, withSessions, elapsed));
            }
        }

        output.WriteLine($"{name}: {Runs} runs passed in {total.Elapsed.TotalSeconds:0.0} s under {Environment.ProcessorCount} busy threads; from the first signal to exit:");
        foreach (var group in durations.GroupBy(d => (d.Delivery, d.Sessions)).OrderBy(g => g.Key.Delivery).ThenBy(g => g.Key.Sessions))
        {
            var ms = group.Select(d => d.Elapsed.TotalMilliseconds).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {group.Key.Delivery,-36} {(group.Key.Sessions ? "sessions" : "none"),-8} n={ms.Length} min {ms[0]:0} ms, max {ms[^1]:0} ms"));
        }
        var all = durations.Select(d => d.Elapsed.TotalMilliseconds).Order().ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  all: min {all[0]:0} ms, median {all[all.Length / 2]:0} ms, max {all[^1]:0} ms"));
    }

    private static async Task<TimeSpan> RunOnceAsync(string run, string dll, string[] args, string urlMarker, string? readyMarker, string realm,
        Delivery delivery, bool withSessions)
    {
        await using var process = PeerProcess.StartAsGroupLeader("dotnet", [dll, .. args], ProcessLifetime);
        string line = await process.WaitForLineAsync(urlMarker, StartBound);
        var url = new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));
        if (readyMarker is not null) await process.WaitForLineAsync(readyMarker, StartBound);
        // setsid must have exec'd the host itself (no fork), or the group signals below would miss it.
        Assert.True(process.LeadsOwnProcessGroup, $"{run}: the host is not the leader of its own process group. Output:\n{process.Log}");

        var sessions = new List<WampSession>();
        WampRegistration? registration = null;
        WampSubscription? subscription = null;
        try
        {
            if (withSessions)
            {
                var callee = await WampSession.ConnectAsync(url, realm);
                sessions.Add(callee);
                var caller = await WampSession.ConnectAsync(url, realm);
                sessions.Add(caller);
                if (realm == "conferences")
                {
                    // The demo's realm lets anonymous sessions call and subscribe only: a live subscription at
                    // shutdown, and a call to the demo's service through the host.
                    subscription = await callee.SubscribeAsync("com.example.conferences.updated", static (e, _) => ValueTask.CompletedTask);
                    var conference = await caller.CallAsync("com.example.conferences.get", WampPayload.FromJson("[123]"));
                    Assert.Equal(123, conference.Payload.Arguments[0].GetProperty("id").GetInt32());
                }
                else
                {
                    // A live registration at shutdown, and proof both sessions really talk through the host.
                    registration = await callee.RegisterAsync("com.example.shutdown.echo", (inv, _) => ValueTask.FromResult(inv.Payload));
                    var echoed = await caller.CallAsync("com.example.shutdown.echo", WampPayload.FromJson("[7]"));
                    Assert.Equal(7, echoed.Payload.Arguments[0].GetInt32());
                }
            }

            var clock = Stopwatch.StartNew();
            Deliver(process, delivery);
            int exitCode = await process.WaitForExitAsync(ExitBound);
            var elapsed = clock.Elapsed;

            string log = process.Log;
            Assert.True(exitCode == 0, $"{run}: exit code {exitCode}. Output:\n{log}");
            Assert.True(log.Split('\n').Count(l => l.TrimEnd() == "stopping") == 1, $"{run}: 'stopping' was not printed exactly once. Output:\n{log}");
            Assert.False(log.Contains("did not finish", StringComparison.Ordinal), $"{run}: the graceful shutdown ran out of time. Output:\n{log}");
            foreach (var session in sessions)
            {
                await session.Completion.WaitAsync(ExitBound);
                // Set from the router's GOODBYE; a socket closed without one reads wamp.close.transport_lost.
                Assert.True(session.CloseReason == "wamp.close.system_shutdown", $"{run}: a session ended with {session.CloseReason}. Output:\n{log}");
            }
            return elapsed;
        }
        finally
        {
            if (registration is not null) await registration.DisposeAsync();
            if (subscription is not null) await subscription.DisposeAsync();
            foreach (var session in sessions) await session.DisposeAsync();
        }
    }

    private static void Deliver(PeerProcess process, Delivery delivery)
    {
        switch (delivery)
        {
            case Delivery.SigtermToProcess:
                process.Signal(PeerProcess.SigTerm);
                break;
            case Delivery.SigtermToProcessAndGroupThenSigcont:
                // What coreutils' timeout does when it is told to stop: the child, the group, then SIGCONT to both.
                process.Signal(PeerProcess.SigTerm);
                process.SignalGroup(PeerProcess.SigTerm);
                process.Signal(PeerProcess.SigCont);
                process.SignalGroup(PeerProcess.SigCont);
                break;
            case Delivery.SigtermTwiceInQuickSuccession:
                process.Signal(PeerProcess.SigTerm);
                process.Signal(PeerProcess.SigTerm);
                break;
            case Delivery.SigintToGroup:
                process.SignalGroup(PeerProcess.SigInt);
                break;
        }
    }

    /// <summary>Busy threads in this process, so the hosts under test run on a loaded machine; stopped on dispose or after a hard limit.</summary>
    private sealed class CpuLoad : IDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly Thread[] _threads;

        private CpuLoad(int threads, TimeSpan lifetime)
        {
            _stop = new CancellationTokenSource(lifetime);
            var token = _stop.Token;
            _threads = Enumerable.Range(0, threads).Select(n => new Thread(() =>
            {
                while (!token.IsCancellationRequested) Thread.SpinWait(10_000);
            })
            { IsBackground = true, Name = $"cpu load {n}" }).ToArray();
            foreach (var t in _threads) t.Start();
        }

        public static CpuLoad Start(int threads, TimeSpan lifetime) => new(threads, lifetime);

        public void Dispose()
        {
            _stop.Cancel();
            foreach (var t in _threads) t.Join();
            _stop.Dispose();
        }
    }
}
