using System.Diagnostics;
using System.Globalization;
using WampContracts;
using WampContracts.Router;

// Echo-call throughput and latency: K callers each keep one com.example.echo call outstanding for SECONDS
// (after a 0.5 s warm-up), through the embedded router over loopback WebSockets, to one callee session.
// The same shape as the fox-wamp + Autobahn|JS baseline in docs/performance.md.
// Usage: dotnet run -c Release --project bench/RuntimeBench [SECONDS=3] [LEVELS=1,16,64]
double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
int[] levels = (args.Length > 1 ? args[1] : "1,16,64").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
seconds = Math.Min(seconds, 60);

await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
await using var callee = await WampSession.ConnectAsync(router.Url!, "realm1");
await using var registration = await callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
await using var caller = await WampSession.ConnectAsync(router.Url!, "realm1");
var payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; router, callee and callers in one process");
foreach (int k in levels)
{
    await RunAsync(k, 0.5, record: false);
    var (calls, latencies, elapsed, errors) = await RunAsync(k, seconds, record: true);
    latencies.Sort();
    double P(double q) => latencies.Count == 0 ? 0 : latencies[(int)Math.Min(latencies.Count - 1, q * latencies.Count)];
    Console.WriteLine($"{{\"bench\":\"echo\",\"concurrency\":{k},\"seconds\":{elapsed:0.000},\"calls\":{calls},\"errors\":{errors},\"calls_per_sec\":{calls / elapsed:0},\"p50_us\":{P(0.5):0},\"p99_us\":{P(0.99):0},\"max_us\":{(latencies.Count > 0 ? latencies[^1] : 0):0}}}");
}

async Task<(long Calls, List<double> Latencies, double Elapsed, long Errors)> RunAsync(int k, double duration, bool record)
{
    long calls = 0, errors = 0;
    var all = new List<double>();
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    await Task.WhenAll(Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
    {
        var mine = new List<double>();
        while (clock.Elapsed < until)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await caller.CallAsync("com.example.echo", payload);
                Interlocked.Increment(ref calls);
                if (record) mine.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref errors);
            }
        }
        lock (all) all.AddRange(mine);
    })));
    return (calls, all, clock.Elapsed.TotalSeconds, errors);
}
