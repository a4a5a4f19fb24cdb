using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
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
/// router's memory is back within 10 % of what it was before it. The router's memory is the difference it makes to
/// the managed heap (with it less without it, so caches the whole process shares count in neither), less the idle
/// blocks its Kestrel host keeps pooled; a leak of one small object per attacker session fails the test many times
/// over. Memory is measured, so the test runs in the non-parallel memory collection. <c>WAMP_FUZZ_FRAMES</c> raises
/// the frame count for longer local runs; <c>WAMP_FUZZ_SEED</c> replays a run (the seed is printed).
/// </summary>
[Collection(nameof(MemoryBoundTests))]
public sealed class RouterFuzzTests(ITestOutputHelper output)
{
    /// <summary>The least number of frames a run sends the router (the warm-up not counted).</summary>
    public const int MinimumFrames = 100_000;

    private const int WarmUpFrames = 5_000;
    private const int PrimingFrames = 2_000;
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
        public long Frames, Sessions, Aborted, Goodbye, Closed, FirstMessageFrames, Errors, Answers, Invocations, Events;
    }

    [Fact]
    public async Task Hostile_frames_from_many_sessions_break_neither_the_router_nor_a_well_behaved_pair_and_leave_no_memory_behind()
    {
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"), out ulong s) ? s : (ulong)Random.Shared.NextInt64();
        Report($"router fuzz: seed {seed} (set WAMP_FUZZ_SEED={seed} to replay)");

        // Warm-up on a router of its own: the JIT, and the process-wide caches the router shares with all other code
        // (ArrayPool.Shared, per-thread frame buffers), which grow with traffic and are trimmed by the runtime, not
        // the router.
        var warmUpLog = new CountingLoggerFactory();
        var warmUp = await WarmUpAsync(seed, warmUpLog);
        Assert.True(warmUpLog.Failures.IsEmpty, "the router failed unexpectedly (event 2004):\n" + string.Join("\n\n", warmUpLog.Failures));

        // The router's memory is the difference it makes: the heap with it (and the pair) less the heap without it,
        // measured at the start and again at the end, so shared caches count in neither; less the idle blocks its
        // Kestrel host keeps pooled for reuse (evicted over minutes, and reported as a metric).
        using var kestrelPool = new KestrelPoolMeter();
        var log = new CountingLoggerFactory();
        var stats = new Stats();
        long withoutAtStart = await CollectedHeapAsync(warmUp);
        var run = await MeasuredRunAsync(seed + 1, log, stats, kestrelPool);
        long withoutAtEnd = await CollectedHeapAsync(run.Router);
        long routerAtStart = run.WithAtStart - withoutAtStart - run.PooledAtStart;
        long routerAtEnd = run.WithAtEnd - withoutAtEnd - run.PooledAtEnd;
        long calls = run.Calls;

        Report($"router fuzz: {stats.Frames:N0} frames ({stats.FirstMessageFrames:N0} as a session's first message) in {run.Elapsed.TotalSeconds:0.0} s " +
               $"from {InMemoryAttackers} in-memory and {SocketAttackers} WebSocket attackers over {stats.Sessions:N0} sessions");
        Report($"router fuzz: sessions ended by ABORT {stats.Aborted:N0}, by GOODBYE {stats.Goodbye:N0}, by the transport closing {stats.Closed:N0}; " +
               $"requests answered with ERROR while their session went on {stats.Errors:N0}; other answers {stats.Answers:N0}, " +
               $"invocations {stats.Invocations:N0}, events {stats.Events:N0}");
        Report($"router fuzz: well-behaved pair: {calls:N0} calls, 0 failed; router log: {log.Summary()}");
        Report($"router fuzz: router memory before {routerAtStart / 1024.0:N0} KiB, after {routerAtEnd / 1024.0:N0} KiB " +
               $"({(routerAtEnd - routerAtStart) * 100.0 / routerAtStart:+0.0;-0.0} %); Kestrel's pooled blocks before {run.PooledAtStart / 1024.0:N0} KiB, " +
               $"after {run.PooledAtEnd / 1024.0:N0} KiB; managed heap with the router at the end {run.WithAtEnd / 1024.0 / 1024:0.0} MiB");

        Assert.True(stats.Frames >= FrameCount, $"only {stats.Frames} of {FrameCount} frames were sent");
        Assert.True(calls > 0, "the well-behaved pair made no call during the run");
        Assert.True(log.Failures.IsEmpty, "the router failed unexpectedly (event 2004):\n" + string.Join("\n\n", log.Failures));
        Assert.True(routerAtEnd <= routerAtStart * 1.10, $"the router holds {routerAtEnd:N0} bytes after the run, more than 10 % over {routerAtStart:N0} before it");
        var unobserved = UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    /// <summary>Runs <see cref="WarmUpFrames"/> frames against a router of its own; returns weak references to it, disposed.</summary>
    private static async Task<WeakReference[]> WarmUpAsync(ulong seed, CountingLoggerFactory log)
    {
        await using var router = await StartRouterAsync(log);
        var (caller, callee) = await StartPairAsync(router);
        await RunAsync(router, caller, seed, WarmUpFrames, new Stats());
        await caller.DisposeAsync();
        await callee.DisposeAsync();
        return References(router);
    }

    private static WeakReference[] References(WampRouter router)
    {
        var core = typeof(WampRouter).GetField("_core", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(router)!;
        return [new WeakReference(router), new WeakReference(core), new WeakReference(router.HostServices)];
    }

    /// <param name="Router">The router, its core and its host's services, disposed: the heap without them is measured once they are collected.</param>
    private sealed record Measurements(long WithAtStart, long PooledAtStart, long WithAtEnd, long PooledAtEnd, long Calls, TimeSpan Elapsed, WeakReference[] Router);

    /// <summary>
    /// The measured run: starts a router and the pair, measures the heap, runs the attackers, measures again, and
    /// disposes everything, so nothing of the router is referenced once it returns.
    /// </summary>
    private static async Task<Measurements> MeasuredRunAsync(ulong seed, CountingLoggerFactory log, Stats stats, KestrelPoolMeter kestrelPool)
    {
        await using var router = await StartRouterAsync(log);
        var (caller, callee) = await StartPairAsync(router);
        // Primed with small frames, so the start is the router at work (its connection and routing tables sized for
        // a handful of sessions), not a router that never served anyone; small, so the shared caches the warm-up
        // filled stay as they are.
        await RunAsync(router, caller, seed + 1, PrimingFrames, new Stats(), maxHuge: 1024);
        long withAtStart = await IdleHeapAsync(router);
        long pooledAtStart = kestrelPool.PooledBytes;
        var clock = Stopwatch.StartNew();
        long calls = await RunAsync(router, caller, seed, FrameCount, stats);
        clock.Stop();
        long withAtEnd = await IdleHeapAsync(router);
        long pooledAtEnd = kestrelPool.PooledBytes;
        await caller.DisposeAsync();
        await callee.DisposeAsync();
        return new Measurements(withAtStart, pooledAtStart, withAtEnd, pooledAtEnd, calls, clock.Elapsed, References(router));
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
    private static async Task<long> RunAsync(WampRouter router, WampSession caller, ulong seed, int frames, Stats stats, int maxHuge = MaxMessageSize)
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
            return Task.Run(() => AttackAsync(new PCG((uint)i, seed), connect, () => Interlocked.Decrement(ref budget) >= 0, stats, maxHuge));
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
    private static async Task AttackAsync(PCG pcg, Func<CancellationToken, Task<IWampTransport>> connect, Func<bool> take, Stats stats, int maxHuge)
    {
        var frames = WampFuzz.Frames(toRouter: true, maxHuge: maxHuge);
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
            Assert.False(r.Oversized || r.Rejection is not null, "the router sent an oversized or rejected message");
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

    /// <summary>Waits until only the pair is connected, then measures the heap.</summary>
    private static async Task<long> IdleHeapAsync(WampRouter router)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (router.ConnectionCount > 2) await Task.Delay(10, stop.Token);
        return Heap();
    }

    private static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

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

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    /// <summary>The bytes Kestrel's memory pools hold for reuse (the <c>aspnetcore.memory_pool.pooled</c> metric) since it started listening.</summary>
    private sealed class KestrelPoolMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _pooled;

        public KestrelPoolMeter()
        {
            _listener.InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument is { Meter.Name: "Microsoft.AspNetCore.MemoryPool", Name: "aspnetcore.memory_pool.pooled" })
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _pooled, value));
            _listener.Start();
        }

        public long PooledBytes => Interlocked.Read(ref _pooled);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Counts what the router logs by event id, keeping only unexpected failures (2004), so a long run holds no log.</summary>
    private sealed class CountingLoggerFactory : ILoggerFactory, ILogger
    {
        private readonly ConcurrentDictionary<int, long> _counts = new();

        public ConcurrentQueue<string> Failures { get; } = new();

        public string Summary() => string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"event {c.Key} × {c.Value:N0}"));

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            _counts.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
            if (eventId.Id == 2004 && Failures.Count < 20) Failures.Enqueue(formatter(state, exception) + "\n" + exception);
        }
    }
}
