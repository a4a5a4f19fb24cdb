using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using WampContracts;
using WampContracts.Router;

// What tracing and metrics cost a call: echo calls through the embedded router over loopback WebSockets, K callers
// each keeping one call outstanding, in alternating rounds without any listener and with an ActivityListener
// (every span recorded) and a MeterListener (every instrument of the WampContracts meter) attached. Reports calls/s and
// bytes allocated per call (whole process: caller, router and callee) for each, and their ratio, measured side by side.
// Usage: dotnet run -c Release --project bench/TelemetryBench [SECONDS=2] [LEVELS=1,16] [ROUNDS=3]
double seconds = Math.Min(args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 2, 60);
int[] levels = (args.Length > 1 ? args[1] : "1,16").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
int rounds = Math.Clamp(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3, 1, 20);

await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
await using var callee = await WampSession.ConnectAsync(router.Url!, "realm1");
await using var registration = await callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
await using var caller = await WampSession.ConnectAsync(router.Url!, "realm1");
var payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; router, callee and caller in one process");
foreach (int k in levels)
{
    await RunAsync(k, 0.5); // warm-up, both paths
    using (Listen()) await RunAsync(k, 0.5);
    var off = new List<(double Rate, double Bytes)>();
    var on = new List<(double Rate, double Bytes)>();
    for (int round = 0; round < rounds; round++)
    {
        off.Add(await RunAsync(k, seconds));
        using (Listen()) on.Add(await RunAsync(k, seconds));
    }
    double Median(IEnumerable<double> values) => values.Order().ElementAt(rounds / 2);
    double offRate = Median(off.Select(r => r.Rate)), onRate = Median(on.Select(r => r.Rate));
    double offBytes = Median(off.Select(r => r.Bytes)), onBytes = Median(on.Select(r => r.Bytes));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"bench\":\"telemetry\",\"concurrency\":{k},\"rounds\":{rounds},\"off_calls_per_sec\":{offRate:0},\"on_calls_per_sec\":{onRate:0},\"on_over_off\":{onRate / offRate:0.000},\"off_bytes_per_call\":{offBytes:0},\"on_bytes_per_call\":{onBytes:0}}}"));
}

async Task<(double Rate, double BytesPerCall)> RunAsync(int k, double duration)
{
    long calls = 0;
    long allocated = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    await Task.WhenAll(Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            await caller.CallAsync("com.example.echo", payload);
            Interlocked.Increment(ref calls);
        }
    })));
    double elapsed = clock.Elapsed.TotalSeconds;
    return (calls / elapsed, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Math.Max(1, calls));
}

static IDisposable Listen()
{
    var activities = new ActivityListener
    {
        ShouldListenTo = s => s.Name == WampTelemetry.Name,
        Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };
    ActivitySource.AddActivityListener(activities);
    var meters = new MeterListener { InstrumentPublished = static (instrument, listener) => { if (instrument.Meter.Name == WampTelemetry.Name) listener.EnableMeasurementEvents(instrument); } };
    meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
    meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
    meters.Start();
    return new Both(activities, meters);
}

sealed class Both(IDisposable a, IDisposable b) : IDisposable
{
    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}
