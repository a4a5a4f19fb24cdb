using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WampContracts;
using WampContracts.Router;
using WampContracts.Router.Redis;

// Cross-node throughput next to one node, measured side by side in one run: calls/s (K callers each keep one
// com.example.echo call outstanding) and events/s (K publishers each keep one acknowledged publication outstanding;
// one subscriber counts what arrives). "single": everything on one router without a backplane; "cross": callers and
// publishers on node A, the callee and the subscriber on node B, A and B joined by Redis. Routers and clients share one
// process; Redis is Debian's redis-server, started here on a free loopback port (or --redis HOST:PORT) and stopped by
// its process id.
// Usage: dotnet run -c Release --project bench/ScaleOutBench [SECONDS=3] [LEVELS=1,16,64] [--redis HOST:PORT]
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
string? redisEndpoint = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();
positional.Remove(redisEndpoint ?? "");
double seconds = Math.Min(positional.Count > 0 ? double.Parse(positional[0], CultureInfo.InvariantCulture) : 3, 60);
int[] levels = (positional.Count > 1 ? positional[1] : "1,16,64").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

Process? redisServer = null;
if (redisEndpoint is null)
{
    int port;
    using (var probe = new TcpListener(IPAddress.Loopback, 0))
    {
        probe.Start();
        port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }
    var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) info.ArgumentList.Add(a);
    redisServer = Process.Start(info)!;
    using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    while (await redisServer.StandardOutput.ReadLineAsync(ready.Token) is { } line && !line.Contains("Ready to accept connections", StringComparison.Ordinal)) { }
    _ = redisServer.StandardOutput.ReadToEndAsync();
    redisEndpoint = $"127.0.0.1:{port}";
}
try
{
    await using var single = await WampRouter.StartAsync(new WampRouterOptions());
    await using var nodeA = await WampRouter.StartAsync(new WampRouterOptions().UseRedisBackplane(redisEndpoint));
    await using var nodeB = await WampRouter.StartAsync(new WampRouterOptions().UseRedisBackplane(redisEndpoint));
    var payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");

    var setups = new Dictionary<string, (WampSession Caller, WampSession Publisher, Func<long> Received)>();
    var keep = new List<IAsyncDisposable>();
    foreach (var (name, front, back) in new[] { ("single", single, single), ("cross", nodeA, nodeB) })
    {
        var callee = await WampSession.ConnectAsync(back.Url!, "realm1");
        keep.Add(callee);
        keep.Add(await callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload)));
        long received = 0;
        var subscriber = await WampSession.ConnectAsync(back.Url!, "realm1");
        keep.Add(subscriber);
        keep.Add(await subscriber.SubscribeAsync("com.example.tick", (ev, ct) =>
        {
            Interlocked.Increment(ref received);
            return ValueTask.CompletedTask;
        }));
        var caller = await WampSession.ConnectAsync(front.Url!, "realm1");
        var publisher = await WampSession.ConnectAsync(front.Url!, "realm1");
        keep.Add(caller);
        keep.Add(publisher);
        setups[name] = (caller, publisher, () => Interlocked.Read(ref received));
    }
    // The callee's registration reaches node A over Redis.
    using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        while (true)
        {
            try
            {
                await setups["cross"].Caller.CallAsync("com.example.echo", payload, cancellationToken: wait.Token);
                break;
            }
            catch (WampException e) when (e.Uri == "wamp.error.no_such_procedure")
            {
                await Task.Delay(20, wait.Token);
            }
        }

    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; routers, clients in one process, redis-server {redisEndpoint}");
    foreach (int k in levels)
    {
        var rates = new Dictionary<string, double>();
        foreach (var bench in new[] { "calls", "events" })
            foreach (var name in new[] { "single", "cross" })
            {
                var s = setups[name];
                Func<Task> op = bench == "calls"
                    ? () => s.Caller.CallAsync("com.example.echo", payload)
                    : () => s.Publisher.PublishAsync("com.example.tick", payload, new WampPublishOptions { Acknowledge = true }).AsTask();
                await RunAsync(k, 0.5, op);
                long before = s.Received();
                var (done, elapsed, errors) = await RunAsync(k, seconds, op);
                double rate = bench == "calls" ? done / elapsed : (s.Received() - before) / elapsed;
                rates[$"{bench}/{name}"] = rate;
                Console.WriteLine($"{{\"bench\":\"{bench}\",\"setup\":\"{name}\",\"concurrency\":{k},\"seconds\":{elapsed:0.000},\"done\":{done},\"errors\":{errors},\"per_sec\":{rate:0}}}");
            }
        Console.WriteLine($"K={k}: cross/single calls {rates["calls/cross"] / rates["calls/single"]:P0}, events {rates["events/cross"] / rates["events/single"]:P0}");
    }
    foreach (var d in Enumerable.Reverse(keep)) await d.DisposeAsync();
}
finally
{
    if (redisServer is not null)
    {
        redisServer.Kill();
        await redisServer.WaitForExitAsync();
    }
}

static async Task<(long Done, double Elapsed, long Errors)> RunAsync(int k, double duration, Func<Task> op)
{
    long done = 0, errors = 0;
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    await Task.WhenAll(Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            try
            {
                await op();
                Interlocked.Increment(ref done);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref errors);
            }
        }
    })));
    return (done, clock.Elapsed.TotalSeconds, errors);
}
