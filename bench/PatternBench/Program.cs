using System.Diagnostics;
using System.Globalization;
using System.Text;
using WampContracts;
using WampContracts.Router;
using WampContracts.Transport;

// Pattern load, measured side by side: one embedded router, two realms with the same peers over loopback WebSockets
// (a callee, a caller, a subscriber, a publisher). In realm "loaded" one more session then holds PATTERNS prefix +
// wildcard subscriptions and PATTERNS prefix + wildcard registrations (half of each kind); realm "clean" holds none.
// The patterns share leading components (and component counts) with the measured URIs but never match them, so a
// router that scans its patterns pays for each one on every publication and on every call that no exact
// registration answers. Each measurement alternates short slices between the two realms, so load from elsewhere on
// the machine falls on both alike, and reports loaded/clean: before the patterns (calibration, ideally 100 %), while
// they are held, and after their session left. Measured: echo calls to an exact registration (com.example.echo) and
// through a wildcard one (com.example..echo, called as com.example.w.echo), K calls outstanding; acknowledged
// publications to an exact subscription (com.example.tick) with the events received; and the time from dropping a
// session's connection to its wamp.session.on_leave, empty and holding the patterns.
// Usage: dotnet run -c Release --project bench/PatternBench [SECONDS=2] [PATTERNS=100000]
//   SECONDS: measured time per realm and measurement; PATTERNS: subscriptions and registrations each.
double seconds = Math.Clamp(args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 2, 0.5, 30);
int patterns = Math.Clamp(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000, 4, 1_000_000);
const double Slice = 0.5; // seconds per realm before switching to the other
var setupBound = TimeSpan.FromMinutes(5); // the whole pattern setup, however slow the router is
var leaveBound = TimeSpan.FromMinutes(2);
const int Window = 1_000; // pipelined requests in flight while loading patterns

// The loading session holds PATTERNS of each kind: more than the router's default per-session limits allow.
await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, MaxRegistrationsPerSession = patterns, MaxSubscriptionsPerSession = patterns });
var url = router.Url!;
await using var clean = await Peers.JoinAsync(url, "clean");
await using var loaded = await Peers.JoinAsync(url, "loaded");
var payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");
var acknowledged = new WampPublishOptions { Acknowledge = true };
var benches = new (string Name, int K, Func<Peers, Task> Operation)[]
{
    ("echo", 1, p => p.Caller.CallAsync("com.example.echo", payload)),
    ("echo", 16, p => p.Caller.CallAsync("com.example.echo", payload)),
    ("echo_wildcard", 1, p => p.Caller.CallAsync("com.example.w.echo", payload)),
    ("echo_wildcard", 16, p => p.Caller.CallAsync("com.example.w.echo", payload)),
    ("publish", 16, p => p.Publisher.PublishAsync("com.example.tick", payload, acknowledged).AsTask()),
};

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; router and all sessions in one process; " +
    $"{seconds:0.#} s per realm and measurement in {Slice} s slices; {patterns:N0} subscriptions and {patterns:N0} registrations");
var ratios = new Dictionary<(string Bench, string Phase), (double Clean, double Loaded)>();

// Warm up (JIT tiering), so that the first phase is not the slowest for that reason alone.
foreach (var (_, k, operation) in benches)
    foreach (var peers in new[] { clean, loaded }) await RunAsync(k, 0.5, () => operation(peers));

await CompareAsync("no_patterns");
double leaveEmpty = await LeaveAsync(await RawSession.JoinAsync(url, loaded.Realm));
Console.WriteLine($"{{\"bench\":\"leave\",\"phase\":\"no_patterns\",\"patterns\":0,\"ms\":{leaveEmpty:0.0}}}");

var loader = await RawSession.JoinAsync(url, loaded.Realm);
var (setupSeconds, setupErrors, firstError) = await loader.LoadPatternsAsync(patterns, Window, setupBound);
Console.WriteLine($"{{\"bench\":\"setup\",\"requests\":{2 * patterns},\"seconds\":{setupSeconds:0.000},\"requests_per_sec\":{2 * patterns / setupSeconds:0},\"errors\":{setupErrors}" +
    $"{(firstError is null ? "" : $",\"first_error\":{System.Text.Json.JsonSerializer.Serialize(firstError)}")}}}");

await CompareAsync("patterns");
double leaveLoaded = await LeaveAsync(loader);
Console.WriteLine($"{{\"bench\":\"leave\",\"phase\":\"patterns\",\"patterns\":{2 * patterns},\"ms\":{leaveLoaded:0.0}}}");
await CompareAsync("after_leave");

Console.WriteLine();
Console.WriteLine("| measurement (per s) | no patterns: loaded / clean | with patterns: clean | loaded | loaded / clean | after their leave: loaded / clean |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var (name, k, _) in benches)
{
    string bench = $"{name} K={k}";
    var before = ratios[(bench, "no_patterns")];
    var during = ratios[(bench, "patterns")];
    var after = ratios[(bench, "after_leave")];
    Console.WriteLine($"| {(name == "publish" ? "publish→event" : name)} K={k} | {before.Loaded / before.Clean:P0} | {during.Clean:N0} | {during.Loaded:N0} | " +
        $"**{during.Loaded / during.Clean:P0}** | {after.Loaded / after.Clean:P0} |");
}
Console.WriteLine($"| session leave | {leaveEmpty:0.0} ms (holding nothing) | | {leaveLoaded:0.0} ms (holding {2 * patterns:N0} patterns) | | |");
Console.WriteLine($"| pattern setup | | | {setupSeconds:0.00} s ({2 * patterns / setupSeconds:N0} requests/s, {setupErrors} errors) | | |");

// Each measurement alternates slices between the realms (starting with a different one each round) and sums them.
async Task CompareAsync(string phase)
{
    foreach (var (name, k, operation) in benches)
    {
        var totals = new Dictionary<Peers, (long Count, long Events, long Errors, double Elapsed)> { [clean] = default, [loaded] = default };
        for (int round = 0; round < Math.Ceiling(seconds / Slice); round++)
        {
            foreach (var peers in round % 2 == 0 ? new[] { clean, loaded } : [loaded, clean])
            {
                long eventsBefore = peers.Events;
                var (count, errors, elapsed) = await RunAsync(k, Slice, () => operation(peers));
                var t = totals[peers];
                totals[peers] = (t.Count + count, t.Events + peers.Events - eventsBefore, t.Errors + errors, t.Elapsed + elapsed);
            }
        }
        foreach (var (peers, t) in totals)
        {
            string counts = name == "publish"
                ? $"\"published\":{t.Count},\"events\":{t.Events},\"errors\":{t.Errors},\"events_per_sec\":{t.Events / t.Elapsed:0}"
                : $"\"calls\":{t.Count},\"errors\":{t.Errors},\"calls_per_sec\":{t.Count / t.Elapsed:0}";
            Console.WriteLine($"{{\"bench\":\"{name}\",\"concurrency\":{k},\"phase\":\"{phase}\",\"realm\":\"{peers.Realm}\",\"seconds\":{t.Elapsed:0.000},{counts}}}");
        }
        double Rate(Peers p) => (name == "publish" ? totals[p].Events : totals[p].Count) / totals[p].Elapsed;
        ratios[($"{name} K={k}", phase)] = (Rate(clean), Rate(loaded));
        Console.WriteLine($"{{\"bench\":\"{name}\",\"concurrency\":{k},\"phase\":\"{phase}\",\"loaded_over_clean\":{Rate(loaded) / Rate(clean):0.000}}}");
    }
}

// K loops each keep one operation outstanding for the duration; the clock bounds every loop.
static async Task<(long Count, long Errors, double Elapsed)> RunAsync(int k, double duration, Func<Task> operation)
{
    long count = 0, errors = 0;
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    await Task.WhenAll(Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            try
            {
                await operation();
                Interlocked.Increment(ref count);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref errors);
            }
        }
    })));
    return (count, errors, clock.Elapsed.TotalSeconds);
}

// Drops the session's connection and times until the router announces its leave (all it held is gone by then).
async Task<double> LeaveAsync(RawSession session)
{
    var left = loaded.LeaveOf(session.Id);
    var clock = Stopwatch.StartNew();
    session.Transport.Abort();
    await left.WaitAsync(leaveBound);
    return clock.Elapsed.TotalMilliseconds;
}

/// <summary>The measured peers of one realm, each its own session; the subscriber counts events, the observer leaves.</summary>
internal sealed class Peers : IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource> _leaves = new();
    private readonly List<WampSession> _sessions = new();
    private long _events;

    private Peers(string realm) => Realm = realm;

    public string Realm { get; }

    public WampSession Caller { get; private set; } = null!;

    public WampSession Publisher { get; private set; } = null!;

    public long Events => Interlocked.Read(ref _events);

    public static async Task<Peers> JoinAsync(Uri url, string realm)
    {
        var peers = new Peers(realm);
        var callee = await WampSession.ConnectAsync(url, realm);
        await callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
        await callee.RegisterAsync("com.example..echo", (inv, ct) => ValueTask.FromResult(inv.Payload), new WampRegisterOptions { Match = WampMatch.Wildcard });
        var subscriber = await WampSession.ConnectAsync(url, realm);
        await subscriber.SubscribeAsync("com.example.tick", (e, ct) =>
        {
            Interlocked.Increment(ref peers._events);
            return ValueTask.CompletedTask;
        });
        var observer = await WampSession.ConnectAsync(url, realm);
        await observer.SubscribeAsync("wamp.session.on_leave", (e, ct) =>
        {
            long id = long.Parse(Encoding.UTF8.GetString(e.Payload.GetArgumentJson(0).Span), CultureInfo.InvariantCulture);
            peers.Leave(id).TrySetResult();
            return ValueTask.CompletedTask;
        });
        peers.Caller = await WampSession.ConnectAsync(url, realm);
        peers.Publisher = await WampSession.ConnectAsync(url, realm);
        peers._sessions.AddRange([callee, subscriber, observer, peers.Caller, peers.Publisher]);
        return peers;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions) await session.DisposeAsync();
    }

    /// <summary>Completes when the router announces that session <paramref name="id"/> left this realm.</summary>
    public Task LeaveOf(long id) => Leave(id).Task;

    private TaskCompletionSource Leave(long id) => _leaves.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A session that speaks raw frames, to pipeline many SUBSCRIBE and REGISTER requests without a round trip each.</summary>
internal sealed class RawSession(WebSocketTransport transport, long id)
{
    public WebSocketTransport Transport { get; } = transport;

    public long Id { get; } = id;

    public static async Task<RawSession> JoinAsync(Uri url, string realm)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var transport = await WebSocketTransport.ConnectAsync(url, TimeSpan.FromSeconds(10), 16 * 1024 * 1024, bound.Token);
        await transport.SendAsync(Encoding.UTF8.GetBytes($"[1,\"{realm}\",{{\"roles\":{{\"callee\":{{}},\"subscriber\":{{}}}}}}]"), bound.Token);
        var welcome = await transport.ReceiveAsync(bound.Token);
        string text = Encoding.UTF8.GetString(welcome.Message.Span);
        if (!text.StartsWith("[2,", StringComparison.Ordinal)) throw new InvalidOperationException($"expected WELCOME, got {text}");
        return new RawSession(transport, long.Parse(text[3..text.IndexOf(',', 3)], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Sends <paramref name="perCategory"/> SUBSCRIBE and as many REGISTER requests, half prefix and half wildcard each,
    /// with at most <paramref name="window"/> unanswered at a time. Patterns: <c>com.example.tick.p{i}</c> and
    /// <c>com..t{i}</c> (subscriptions), <c>com.example.echo.p{i}</c> and <c>com.example..e{i}</c> (registrations): none
    /// matches <c>com.example.tick</c>, <c>com.example.echo</c> or <c>com.example.w.echo</c>, but each shares leading
    /// components and the component count with one of them.
    /// </summary>
    public async Task<(double Seconds, long Errors, string? FirstError)> LoadPatternsAsync(int perCategory, int window, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        int total = 2 * perCategory;
        using var slots = new SemaphoreSlim(window);
        long errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var reader = Task.Run(async () =>
        {
            for (int answered = 0; answered < total; answered++)
            {
                var r = await Transport.ReceiveAsync(cts.Token);
                if (r.IsClosed) throw new InvalidOperationException($"the router closed the loading session after {answered} answers");
                var text = r.Message.Span;
                // SUBSCRIBED [33, ...] or REGISTERED [65, ...]; anything else (ERROR [8, ...]) is counted.
                if (!text.StartsWith("[33,"u8) && !text.StartsWith("[65,"u8))
                {
                    errors++;
                    firstError ??= Encoding.UTF8.GetString(text);
                }
                slots.Release();
            }
        });
        for (int i = 0; i < total; i++)
        {
            await slots.WaitAsync(cts.Token);
            int n = i / 4;
            string frame = (i % 4) switch
            {
                0 => $$"""[32,{{i + 1}},{"match":"prefix"},"com.example.tick.p{{n}}"]""",
                1 => $$"""[32,{{i + 1}},{"match":"wildcard"},"com..t{{n}}"]""",
                2 => $$"""[64,{{i + 1}},{"match":"prefix"},"com.example.echo.p{{n}}"]""",
                _ => $$"""[64,{{i + 1}},{"match":"wildcard"},"com.example..e{{n}}"]""",
            };
            await Transport.SendAsync(Encoding.UTF8.GetBytes(frame), cts.Token);
        }
        await reader.WaitAsync(cts.Token);
        return (clock.Elapsed.TotalSeconds, errors, firstError);
    }
}
