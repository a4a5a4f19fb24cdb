using System.Diagnostics;
using System.Globalization;
using System.Text;
using WampContracts;
using WampContracts.Router;
using WampContracts.Transport;

// Pattern load: echo calls and publish→event delivery through the embedded router over loopback WebSockets,
// first with no pattern in the realm, then while one other session holds PATTERNS prefix + wildcard
// subscriptions and PATTERNS prefix + wildcard registrations (half of each kind). Those patterns share leading
// components (and component counts) with the measured URIs but never match them, so a router that scans its
// patterns pays for each one on every publication and on every call that no exact registration answers. The echo
// is measured twice: to an exact registration (com.example.echo) and through a wildcard one (com.example..echo,
// called as com.example.w.echo). Also times a session's leave (until wamp.session.on_leave arrives) without and
// with those patterns. Prints JSON lines, then a table with the loaded/baseline ratios.
// Usage: dotnet run -c Release --project bench/PatternBench [SECONDS=3] [PATTERNS=100000]
double seconds = Math.Min(args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3, 60);
int patterns = Math.Clamp(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000, 4, 1_000_000);
var setupBound = TimeSpan.FromMinutes(5); // the whole pattern setup, however slow the router is
var leaveBound = TimeSpan.FromMinutes(2);
const string Realm = "realm1";
const int Window = 1_000; // pipelined requests in flight while loading patterns

// The loading session holds PATTERNS of each kind: more than the router's default per-session limits allow.
await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, MaxRegistrationsPerSession = patterns, MaxSubscriptionsPerSession = patterns });
var url = router.Url!;
await using var callee = await WampSession.ConnectAsync(url, Realm);
await using var registration = await callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
await using var wildcardRegistration = await callee.RegisterAsync("com.example..echo", (inv, ct) => ValueTask.FromResult(inv.Payload),
    new WampRegisterOptions { Match = WampMatch.Wildcard });
await using var caller = await WampSession.ConnectAsync(url, Realm);
await using var subscriber = await WampSession.ConnectAsync(url, Realm);
long events = 0;
await using var tick = await subscriber.SubscribeAsync("com.example.tick", (e, ct) => { Interlocked.Increment(ref events); return ValueTask.CompletedTask; });
await using var publisher = await WampSession.ConnectAsync(url, Realm);
await using var observer = await WampSession.ConnectAsync(url, Realm);
var leaves = new System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource>();
await using var onLeave = await observer.SubscribeAsync("wamp.session.on_leave", (e, ct) =>
{
    long id = long.Parse(Encoding.UTF8.GetString(e.Payload.GetArgumentJson(0).Span), CultureInfo.InvariantCulture);
    leaves.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    return ValueTask.CompletedTask;
});
var payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");
var acknowledged = new WampPublishOptions { Acknowledge = true };

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; router and all sessions in one process; {seconds:0.#} s per measurement, {patterns:N0} patterns per category");
var results = new List<(string Phase, string Bench, double Rate)>();

// Warm up (JIT tiering) long enough that the first measurement is not the slowest for that reason alone.
await RunAsync(16, 1, _ => caller.CallAsync("com.example.echo", payload));
await RunAsync(16, 1, _ => caller.CallAsync("com.example.w.echo", payload));
await RunAsync(16, 1, _ => publisher.PublishAsync("com.example.tick", payload, acknowledged).AsTask());
await MeasureAsync("baseline");
double leaveEmpty = await LeaveAsync(await RawSession.JoinAsync(url, Realm));
Console.WriteLine($"{{\"bench\":\"leave\",\"phase\":\"baseline\",\"patterns\":0,\"ms\":{leaveEmpty:0.0}}}");

var loader = await RawSession.JoinAsync(url, Realm);
var (setupSeconds, setupErrors, firstError) = await loader.LoadPatternsAsync(patterns, Window, setupBound);
Console.WriteLine($"{{\"bench\":\"setup\",\"requests\":{2 * patterns},\"seconds\":{setupSeconds:0.000},\"requests_per_sec\":{2 * patterns / setupSeconds:0},\"errors\":{setupErrors}{(firstError is null ? "" : $",\"first_error\":{System.Text.Json.JsonSerializer.Serialize(firstError)}")}}}");

await MeasureAsync("patterns");
double leaveLoaded = await LeaveAsync(loader);
Console.WriteLine($"{{\"bench\":\"leave\",\"phase\":\"patterns\",\"patterns\":{2 * patterns},\"ms\":{leaveLoaded:0.0}}}");
await MeasureAsync("after_leave");

Console.WriteLine();
Console.WriteLine("| measurement | baseline | with patterns | after their leave | with patterns / baseline |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var bench in results.Select(r => r.Bench).Distinct())
{
    double Rate(string phase) => results.Single(r => r.Phase == phase && r.Bench == bench).Rate;
    Console.WriteLine($"| {bench} /s | {Rate("baseline"):N0} | {Rate("patterns"):N0} | {Rate("after_leave"):N0} | {Rate("patterns") / Rate("baseline"):P0} |");
}
Console.WriteLine($"| session leave | {leaveEmpty:0.0} ms (no patterns) | {leaveLoaded:0.0} ms ({2 * patterns:N0} patterns held) | | |");
Console.WriteLine($"| pattern setup | | {setupSeconds:0.00} s ({2 * patterns / setupSeconds:N0} requests/s, {setupErrors} errors) | | |");

async Task MeasureAsync(string phase)
{
    foreach (var (name, procedure) in new[] { ("echo", "com.example.echo"), ("echo_wildcard", "com.example.w.echo") })
    {
        foreach (int k in new[] { 1, 16 })
        {
            await RunAsync(k, 0.5, _ => caller.CallAsync(procedure, payload));
            var (calls, errors, elapsed) = await RunAsync(k, seconds, _ => caller.CallAsync(procedure, payload));
            Report(phase, $"{name} K={k}", calls, errors, elapsed, "calls");
        }
    }
    {
        const int k = 16;
        await RunAsync(k, 0.5, _ => publisher.PublishAsync("com.example.tick", payload, acknowledged).AsTask());
        long before = Interlocked.Read(ref events);
        var (published, errors, elapsed) = await RunAsync(k, seconds, _ => publisher.PublishAsync("com.example.tick", payload, acknowledged).AsTask());
        long received = Interlocked.Read(ref events) - before;
        Console.WriteLine($"{{\"bench\":\"publish\",\"phase\":\"{phase}\",\"concurrency\":{k},\"seconds\":{elapsed:0.000},\"published\":{published},\"events\":{received},\"errors\":{errors},\"events_per_sec\":{received / elapsed:0}}}");
        results.Add((phase, $"publish→event K={k}", received / elapsed));
    }
}

void Report(string phase, string bench, long count, long errors, double elapsed, string unit)
{
    Console.WriteLine($"{{\"bench\":\"{bench.Replace(" K=", "\",\"concurrency\":", StringComparison.Ordinal)},\"phase\":\"{phase}\",\"seconds\":{elapsed:0.000},\"{unit}\":{count},\"errors\":{errors},\"{unit}_per_sec\":{count / elapsed:0}}}");
    results.Add((phase, bench, count / elapsed));
}

// K loops each keep one operation outstanding for the duration; the clock bounds every loop.
async Task<(long Count, long Errors, double Elapsed)> RunAsync(int k, double duration, Func<int, Task> operation)
{
    long count = 0, errors = 0;
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    await Task.WhenAll(Enumerable.Range(0, k).Select(i => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            try
            {
                await operation(i);
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
    var left = leaves.GetOrAdd(session.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    var clock = Stopwatch.StartNew();
    session.Transport.Abort();
    await left.Task.WaitAsync(leaveBound);
    return clock.Elapsed.TotalMilliseconds;
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
