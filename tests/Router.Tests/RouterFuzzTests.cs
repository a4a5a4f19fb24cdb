using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Testing;
using WampContracts.Transport;
using Xunit.Abstractions;

namespace WampContracts.Router.Tests;

/// <summary>
/// A live router under at least <see cref="MinimumFrames"/> hostile frames (<see cref="WampFuzz.Frames"/>) from many
/// attacker sessions at once, in memory and on real loopback WebSockets, some after a valid HELLO and some as the
/// first message, each attacker reconnecting when its session ends; meanwhile a well-behaved caller calls a
/// well-behaved callee's echo procedure in a loop. Every call succeeds, the router answers every attacker within a
/// bound and logs no unexpected failure (event 2004), no library task fails unobserved, and after the run the
/// router's memory is within 10 % of its starting value, or within <see cref="MemoryNoise"/> of it where that is more.
/// The router's memory is the difference it makes to the managed heap (idle, with it less without it, so caches the
/// whole process shares count in neither); the starting value is measured on a twin router after a short warm-up. A
/// leak of one byte per attacker session fails the test. Memory is measured, so the test runs in
/// the non-parallel memory collection. <c>WAMP_FUZZ_FRAMES</c> raises the frame count for longer local runs;
/// <c>WAMP_FUZZ_SEED</c> replays a run (the seed is printed; the attackers' interleaving is not replayed).
/// </summary>
[Collection(nameof(MemoryBoundTests))]
public sealed class RouterFuzzTests(ITestOutputHelper output)
{
    /// <summary>The least number of frames a run sends the router (the warm-up not counted).</summary>
    public const int MinimumFrames = 100_000;

    private const int WarmUpFrames = 5_000;

    /// <summary>
    /// How far two measurements of one idle router's few KiB differ with nothing leaking (what other threads allocate
    /// between collections): less than one byte per session of a run.
    /// </summary>
    private const long MemoryNoise = 32 * 1024;
    private const int MaxMessageSize = 256 * 1024;
    private const int InMemoryAttackers = 6;
    private const int SocketAttackers = 2;

    /// <summary>Bound on each answer the router owes an attacker, and on each call of the well-behaved pair.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Bound on the whole run.</summary>
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(5);

    // A marker after every frame: UNSUBSCRIBE of a subscription no router hands out (ids count up from 1), whose
    // ERROR says the frame before it was processed and the session is still joined.
    private const long NoSuchSubscription = 9007199254740991L;
    private const long FirstMarker = 9_000_000_000_000_000L;

    private static int FrameCount =>
        Math.Max(MinimumFrames, int.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_FRAMES"), out int n) ? n : 0);

    private sealed class Stats
    {
        public long Frames, Sessions, Aborted, Goodbye, Closed, FirstMessageFrames, Errors, Answers, Invocations, Events, Oversized;
    }

    [Fact]
    public async Task Hostile_frames_from_many_sessions_break_neither_the_router_nor_a_well_behaved_pair_and_leave_no_memory_behind()
    {
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"), out ulong s) ? s : (ulong)Random.Shared.NextInt64();
        Report($"router fuzz: seed {seed} (set WAMP_FUZZ_SEED={seed} to replay)");

        // The router's memory is the difference it makes to the managed heap: the heap with it (idle, the pair gone)
        // less the heap once it is disposed and collected, so the caches the whole process shares (ArrayPool.Shared, per-thread
        // frame buffers, parked reader threads), which grow with traffic and which the runtime trims, count in neither. Measuring it
        // takes the router's disposal, so its starting value is measured on a twin: a router that has served a
        // warm-up of the same kinds of frames. A first warm-up, not measured, warms the JIT, the shared caches and
        // what the first router to be disposed initializes.
        var warmUpLog = new CountingLoggerFactory(2004);
        await RunRouterAsync(seed, WarmUpFrames, warmUpLog, new Stats());
        var start = await MeasureAsync(seed + 1, WarmUpFrames, warmUpLog, new Stats());
        var log = new CountingLoggerFactory(2004);
        var stats = new Stats();
        var run = await MeasureAsync(seed + 2, FrameCount, log, stats);
        long calls = run.Calls;

        Report($"router fuzz: {stats.Frames:N0} frames ({stats.FirstMessageFrames:N0} as a session's first message) in {run.Elapsed.TotalSeconds:0.0} s " +
               $"from {InMemoryAttackers} in-memory and {SocketAttackers} WebSocket attackers over {stats.Sessions:N0} sessions");
        Report($"router fuzz: sessions ended by ABORT {stats.Aborted:N0}, by GOODBYE {stats.Goodbye:N0}, by the transport closing {stats.Closed:N0}; " +
               $"requests answered with ERROR while their session went on {stats.Errors:N0}; other answers {stats.Answers:N0}, " +
               $"invocations {stats.Invocations:N0}, events {stats.Events:N0}, answers over the attacker's message size limit {stats.Oversized:N0}");
        Report($"router fuzz: well-behaved pair: {calls:N0} calls, 0 failed; router log: {log.Summary()}");
        Report($"router fuzz: router memory after a warm-up of {WarmUpFrames:N0} frames {start.RouterBytes / 1024.0:N0} KiB, after the run " +
               $"{run.RouterBytes / 1024.0:N0} KiB ({(run.RouterBytes - start.RouterBytes) * 100.0 / start.RouterBytes:+0.0;-0.0} %); managed heap with the router at the end {run.HeapWith / 1024.0 / 1024:0.0} MiB");

        Assert.True(stats.Frames >= FrameCount, $"only {stats.Frames} of {FrameCount} frames were sent");
        Assert.True(calls > 0, "the well-behaved pair made no call during the run");
        Assert.True(warmUpLog.Failures.IsEmpty && log.Failures.IsEmpty, "the router failed unexpectedly (event 2004):\n" +
            string.Join("\n\n", warmUpLog.Failures.Concat(log.Failures)));
        Assert.True(stats.Sessions > MemoryNoise, $"only {stats.Sessions} sessions: a leak of a byte each would hide in the noise");
        Assert.True(run.RouterBytes <= Math.Max(start.RouterBytes * 1.10, start.RouterBytes + MemoryNoise),
            $"the router holds {run.RouterBytes:N0} bytes after the run, more than 10 % and {MemoryNoise:N0} bytes over {start.RouterBytes:N0} at the start");
        var unobserved = UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    private sealed record Measurement(long RouterBytes, long HeapWith, long Calls, TimeSpan Elapsed);

    /// <summary>Runs a router through <paramref name="frames"/> frames, then measures its memory (see the test).</summary>
    private static async Task<Measurement> MeasureAsync(ulong seed, int frames, CountingLoggerFactory log, Stats stats)
    {
        var (with, calls, elapsed, router) = await RunRouterAsync(seed, frames, log, stats);
        long without = await CollectedHeapAsync(router);
        return new Measurement(with - without, with, calls, elapsed);
    }

    /// <summary>
    /// Starts a router and the pair, runs the attackers, measures the heap once the router is idle, and disposes
    /// everything; returns weak references to the router, its core and its WebSocket listener, which nothing else holds.
    /// </summary>
    private static async Task<(long With, long Calls, TimeSpan Elapsed, WeakReference[] Router)> RunRouterAsync(
        ulong seed, int frames, CountingLoggerFactory log, Stats stats)
    {
        await using var router = await StartRouterAsync(log);
        var (caller, callee) = await StartPairAsync(router);
        var clock = Stopwatch.StartNew();
        long calls = await RunAsync(router, caller, seed, frames, stats);
        clock.Stop();
        // The pair is not the router: it leaves before the measurement.
        await caller.DisposeAsync();
        await callee.DisposeAsync();
        caller = callee = null!;
        long with = await IdleHeapAsync(router);
        var fields = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var core = typeof(WampRouter).GetField("_core", fields)!.GetValue(router)!;
        var listener = typeof(WampRouter).GetField("_webSocket", fields)!.GetValue(router)!;
        return (with, calls, clock.Elapsed, [new WeakReference(router), new WeakReference(core), new WeakReference(listener)]);
    }

    private static Task<WampRouter> StartRouterAsync(CountingLoggerFactory log) => WampRouter.StartAsync(new WampRouterOptions
    {
        LoggerFactory = log,
        MaxMessageSize = MaxMessageSize,
        HandshakeTimeout = TimeSpan.FromSeconds(5),
    });

    /// <summary>The well-behaved pair, in memory (the WebSocket attackers exercise the router's socket path).</summary>
    private static async Task<(WampSession Caller, WampSession Callee)> StartPairAsync(WampRouter router)
    {
        var callee = await WampSession.JoinAsync(router.ConnectInMemory(), "realm1");
        await callee.RegisterAsync("com.example.echo", static (inv, ct) => ValueTask.FromResult(inv.Payload));
        var caller = await WampSession.JoinAsync(router.ConnectInMemory(), "realm1");
        return (caller, callee);
    }

    /// <summary>Runs the attackers until <paramref name="frames"/> frames are sent, with the pair calling throughout; returns the pair's calls.</summary>
    private static async Task<long> RunAsync(WampRouter router, WampSession caller, ulong seed, int frames, Stats stats)
    {
        long budget = frames;
        using var stop = new CancellationTokenSource();
        var pair = PairAsync(caller, stop.Token);
        var attackers = Enumerable.Range(0, InMemoryAttackers + SocketAttackers).Select(i =>
        {
            bool socket = i >= InMemoryAttackers;
            Func<CancellationToken, Task<IWampTransport>> connect = socket
                ? ct => ConnectSocketAsync(router.Url!, ct)
                : _ => Task.FromResult(router.ConnectInMemory());
            return Task.Run(() => AttackAsync(new PCG((uint)i, seed), connect, () => Interlocked.Decrement(ref budget) >= 0, stats));
        }).ToList();
        try
        {
            // The first attacker to fail ends the run.
            var all = Task.WhenAll(attackers);
            await Task.WhenAny(all, pair).WaitAsync(RunBound);
            if (pair.IsCompleted) await pair; // the pair failed: its exception says how
            await all;
        }
        finally
        {
            stop.Cancel();
        }
        return await pair;
    }

    /// <summary>The well-behaved pair: the caller calls the callee's echo until stopped; every call must come back whole.</summary>
    private static async Task<long> PairAsync(WampSession caller, CancellationToken stop)
    {
        long calls = 0;
        while (!stop.IsCancellationRequested)
        {
            long n = ++calls;
            string args = $"[\"ping\", {n}]";
            var result = await caller.CallAsync("com.example.echo", WampPayload.FromJson(args)).WaitAsync(Bound);
            Assert.Equal(args, Encoding.UTF8.GetString(result.Payload.ArgumentsJson.Span));
        }
        return calls;
    }

    private static async Task<IWampTransport> ConnectSocketAsync(Uri url, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(WebSocketTransport.JsonSubprotocol);
        await socket.ConnectAsync(url, cancellationToken).WaitAsync(Bound, cancellationToken);
        return new WebSocketTransport(socket, 16 * 1024 * 1024);
    }

    private enum Outcome { Alive, Welcomed, Aborted, Goodbye, Closed }

    /// <summary>
    /// One attacker: connects, joins with a valid HELLO (or sends a hostile frame as its first message), then sends
    /// hostile frames, each followed by a marker, until its session ends; then connects again, until the budget is spent.
    /// </summary>
    private static async Task AttackAsync(PCG pcg, Func<CancellationToken, Task<IWampTransport>> connect, Func<bool> take, Stats stats)
    {
        var frames = WampFuzz.Frames(toRouter: true, maxHuge: MaxMessageSize);
        var hello = WampFuzz.Frames(toRouter: true, maxHuge: 1024);
        bool more = true;
        while (more)
        {
            var transport = await connect(CancellationToken.None);
            Interlocked.Increment(ref stats.Sessions);
            try
            {
                Outcome outcome;
                if (pcg.Next(10) == 0)
                {
                    if (!(more = take())) break;
                    byte[] first = hello.Draw(pcg);
                    Interlocked.Increment(ref stats.Frames);
                    Interlocked.Increment(ref stats.FirstMessageFrames);
                    outcome = await SendAsync(transport, first) ? await ReadAsync(transport, 0, first, stats) : Outcome.Closed;
                }
                else
                {
                    byte[] join = Encoding.UTF8.GetBytes(Hello(pcg));
                    outcome = await SendAsync(transport, join) ? await ReadAsync(transport, 0, join, stats) : Outcome.Closed;
                    Assert.True(outcome == Outcome.Welcomed, $"a valid HELLO was not welcomed ({outcome}): {Encoding.UTF8.GetString(join)}");
                }
                long marker = FirstMarker;
                while (outcome is Outcome.Welcomed or Outcome.Alive && (more = take()))
                {
                    byte[] frame = frames.Draw(pcg);
                    Interlocked.Increment(ref stats.Frames);
                    marker++;
                    bool sent = await SendAsync(transport, frame) &&
                                await SendAsync(transport, Encoding.UTF8.GetBytes($"[34, {marker}, {NoSuchSubscription}]"));
                    outcome = sent ? await ReadAsync(transport, marker, frame, stats) : Outcome.Closed;
                }
                switch (outcome)
                {
                    case Outcome.Aborted: Interlocked.Increment(ref stats.Aborted); break;
                    case Outcome.Goodbye: Interlocked.Increment(ref stats.Goodbye); break;
                    case Outcome.Closed: Interlocked.Increment(ref stats.Closed); break;
                }
            }
            finally
            {
                transport.Abort();
                await transport.DisposeAsync();
            }
        }
    }

    private static string Hello(PCG pcg)
    {
        string B() => pcg.Next(2) == 0 ? "true" : "false";
        string realm = pcg.Next(4) == 0 ? "realm2" : "realm1";
        string callee = "{\"features\": {\"call_canceling\": " + B() + ", \"call_timeout\": " + B() + ", \"progressive_call_results\": " + B() + "}}";
        return "[1, \"" + realm + "\", {\"roles\": {\"caller\": {}, \"callee\": " + callee + ", \"publisher\": {}, \"subscriber\": {}}}]";
    }

    /// <summary>Sends a frame; false when the router has already closed the connection.</summary>
    private static async Task<bool> SendAsync(IWampTransport transport, byte[] frame)
    {
        try
        {
            await transport.SendAsync(frame, CancellationToken.None).AsTask().WaitAsync(Bound);
            return true;
        }
        catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads what the router sends until the marker's ERROR (<paramref name="marker"/> 0: until WELCOME), an ABORT, a
    /// GOODBYE or the close. Whatever the router sends must parse; every answer is owed within <see cref="Bound"/>.
    /// </summary>
    private static async Task<Outcome> ReadAsync(IWampTransport transport, long marker, byte[] frame, Stats stats)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            WampReceiveResult r;
            try
            {
                r = await transport.ReceiveAsync(bound.Token);
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested)
            {
                throw new TimeoutException($"the router did not answer within {Bound.TotalSeconds} s after: {Show(frame)}");
            }
            catch (Exception e) when (e is IOException or WebSocketException)
            {
                return Outcome.Closed;
            }
            if (r.IsClosed) return Outcome.Closed;
            Assert.True(r.Rejection is null, $"the router sent what the transport rejects: {r.Rejection}");
            if (r.Oversized)
            {
                // Over the attacker's own limit (in memory, the router's MaxMessageSize): an answer quoting a huge URI.
                Interlocked.Increment(ref stats.Oversized);
                continue;
            }
            var m = WampMessageParser.Parse(r.Message);
            switch (m.Type)
            {
                case WampMessageType.Error when m.Id1 == (long)WampMessageType.Unsubscribe && m.Id2 == marker && marker != 0:
                    return Outcome.Alive;
                case WampMessageType.Welcome when marker == 0:
                    return Outcome.Welcomed;
                case WampMessageType.Abort:
                    return Outcome.Aborted;
                case WampMessageType.Goodbye:
                    return Outcome.Goodbye;
                case WampMessageType.Error:
                    Interlocked.Increment(ref stats.Errors);
                    break;
                case WampMessageType.Invocation:
                    Interlocked.Increment(ref stats.Invocations);
                    break;
                case WampMessageType.Event:
                    Interlocked.Increment(ref stats.Events);
                    break;
                default:
                    Interlocked.Increment(ref stats.Answers);
                    break;
            }
        }
    }

    /// <summary>Waits until the router serves no connection, then measures the heap.</summary>
    private static async Task<long> IdleHeapAsync(WampRouter router)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (router.ConnectionCount > 0) await Task.Delay(10, stop.Token);
        return Heap();
    }

    /// <summary>
    /// The managed heap after full collections, repeated until it settles within 1 KiB: objects with finalizers (a
    /// closed socket's) take more than one collection, and GetTotalMemory(true) stops at 5 % of the heap, which is far
    /// more than the router.
    /// </summary>
    private static long Heap()
    {
        long last = long.MaxValue;
        for (int i = 0; i < 20; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long now = GC.GetTotalMemory(forceFullCollection: false);
            if (Math.Abs(last - now) < 1024) return now;
            last = now;
        }
        return last;
    }

    /// <summary>
    /// Measures the heap once the disposed router is gone: its last timers and connection closes (each bounded by its
    /// handshake timeout) may hold it for a few seconds after disposal.
    /// </summary>
    private static async Task<long> CollectedHeapAsync(WeakReference[] router)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            long heap = Heap();
            if (!router.Any(r => r.IsAlive)) return heap;
            await Task.Delay(50, stop.Token);
        }
    }

    private static string Show(byte[] frame)
    {
        string text = Encoding.UTF8.GetString(frame);
        return $"{frame.Length} bytes: {(text.Length > 300 ? text[..300] + "…" : text)}";
    }

    private void Report(string line) => FuzzReport.Write(output, line);
}
