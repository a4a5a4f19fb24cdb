using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WampContracts;
using WampContracts.Router;

namespace WampContracts.Bench;

/// <summary>The .NET peers of the matrix, each run as its own process by <see cref="Matrix"/>.</summary>
internal static class Peers
{
    private static readonly WampPayload Payload = WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");

    /// <summary>Registers com.example.echo (a handler that never blocks, so it runs inline); answers each stdin line with its invocation count and allocated bytes.</summary>
    public static async Task<int> CalleeAsync(Args a)
    {
        long invocations = 0;
        await using var session = await WampSession.ConnectAsync(a.Url, "realm1");
        await using var registration = await session.RegisterAsync("com.example.echo", (inv, ct) =>
        {
            Interlocked.Increment(ref invocations);
            return ValueTask.FromResult(inv.Payload);
        }, new WampRegisterOptions { RunsInline = true });
        Console.WriteLine("READY callee");
        await AnswerStatsAsync(() => Volatile.Read(ref invocations));
        return 0;
    }

    /// <summary>The embedded router in this process (to measure what it allocates per call); prints its URL.</summary>
    public static async Task<int> RouterHostAsync(Args a)
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        Console.WriteLine($"listening on {router.Url}");
        await AnswerStatsAsync(() => 0);
        return 0;
    }

    /// <summary>
    /// Each stdin line gets "STATS {count} {allocated bytes}" until stdin closes; the line "heap" gets "HEAP {bytes}",
    /// the live managed heap after full collections.
    /// </summary>
    private static async Task AnswerStatsAsync(Func<long> count)
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "heap")
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HEAP {GC.GetTotalMemory(forceFullCollection: true)}"));
                continue;
            }
            AllocationSampler.WriteIfAsked();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STATS {count()} {GC.GetTotalAllocatedBytes(precise: true)}"));
        }
    }

    /// <summary>K workers each keep one echo call outstanding; one JSON line per level (with bytes allocated per call).</summary>
    public static async Task<int> CallerAsync(Args a)
    {
        await using var session = await WampSession.ConnectAsync(a.Url, "realm1");
        foreach (int k in a.Levels)
        {
            var r = await Measure.RunAsync(k, a.Warmup, a.Seconds, () => session.CallAsync("com.example.echo", Payload));
            Console.WriteLine(r.ToJson("echo", k));
        }
        return 0;
    }

    /// <summary>Opens <c>--sessions</c> sessions and keeps them idle; prints "JOINED n" and waits for stdin to close.</summary>
    public static async Task<int> IdleAsync(Args a)
    {
        var sessions = new ConcurrentBag<WampSession>();
        int n = a.Int("sessions", 10_000);
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, n).Select(async _ =>
        {
            await gate.WaitAsync();
            try { sessions.Add(await WampSession.ConnectAsync(a.Url, "realm1")); }
            finally { gate.Release(); }
        }));
        Console.WriteLine($"JOINED {sessions.Count}");
        while (await Console.In.ReadLineAsync() is not null) { }
        foreach (var s in sessions) await s.DisposeAsync();
        return 0;
    }

    /// <summary>Every one of <c>--connections</c> sessions subscribes to every one of <c>--topics</c> topics; stdin lines get "COUNT n".</summary>
    public static async Task<int> FanoutSubscriberAsync(Args a)
    {
        long events = 0;
        var sessions = new List<WampSession>();
        for (int c = 0; c < a.Int("connections", 50); c++)
        {
            var s = await WampSession.ConnectAsync(a.Url, "realm1");
            sessions.Add(s);
            for (int t = 0; t < a.Int("topics", 20); t++)
                await s.SubscribeAsync($"com.example.fanout.t{t}", (e, ct) => { Interlocked.Increment(ref events); return ValueTask.CompletedTask; });
        }
        Console.WriteLine("READY fanout-sub");
        while (await Console.In.ReadLineAsync() is not null)
            Console.WriteLine($"COUNT {Volatile.Read(ref events)}");
        foreach (var s in sessions) await s.DisposeAsync();
        return 0;
    }

    /// <summary>Publishes acknowledged events round-robin over the topics, <c>--window</c> outstanding, until stopped.</summary>
    public static async Task<int> FanoutPublisherAsync(Args a)
    {
        await using var session = await WampSession.ConnectAsync(a.Url, "realm1");
        int topics = a.Int("topics", 20);
        string[] names = Enumerable.Range(0, topics).Select(t => $"com.example.fanout.t{t}").ToArray();
        var ack = new WampPublishOptions { Acknowledge = true };
        long n = 0;
        Console.WriteLine("READY fanout-pub");
        await Task.WhenAll(Enumerable.Range(0, a.Int("window", 16)).Select(_ => Task.Run(async () =>
        {
            while (true) await session.PublishAsync(names[Interlocked.Increment(ref n) % topics], Payload, ack);
        })));
        return 0;
    }

    // --- The naive relay: WebSocket frames forwarded by a minimal Kestrel app, no WAMP at all. ---

    /// <summary>
    /// A Kestrel app: the echo peer connects to /echo, callers to /; each text message is forwarded unchanged to the
    /// other side (one receive loop per socket, which is the only writer of the socket it forwards to).
    /// </summary>
    public static async Task<int> RelayAsync(Args a)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        WebSocket? echo = null;
        var echoReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WebSocket? caller = null;
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest) { context.Response.StatusCode = 400; return; }
            var socket = await context.WebSockets.AcceptWebSocketAsync();
            if (context.Request.Path == "/echo")
            {
                echo = socket;
                echoReady.TrySetResult();
                await ForwardAsync(socket, () => caller);
            }
            else
            {
                await echoReady.Task;
                caller = socket;
                await ForwardAsync(socket, () => echo);
            }
        });
        await app.StartAsync();
        var address = app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal);
        Console.WriteLine($"listening on {address}/");
        while (await Console.In.ReadLineAsync() is not null) { }
        await app.StopAsync();
        return 0;
    }

    private static async Task ForwardAsync(WebSocket from, Func<WebSocket?> to)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int count = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                r = await from.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close) return;
                count += r.Count;
            } while (!r.EndOfMessage);
            if (to() is { } target) await target.SendAsync(buffer.AsMemory(0, count), WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }

    /// <summary>The relay's echo peer: sends every message back as it came.</summary>
    public static async Task<int> RelayEchoAsync(Args a)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(a.Url, "echo"), CancellationToken.None);
        Console.WriteLine("READY relay-echo");
        await ForwardAsync(socket, () => socket);
        return 0;
    }

    /// <summary>
    /// The relay's caller: K workers each keep one message outstanding; a message is the CALL the WAMP callers send
    /// (<c>[48,id,{},"com.example.echo",[...]]</c>), matched to its echo by id.
    /// </summary>
    public static async Task<int> RelayCallerAsync(Args a)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(a.Url, CancellationToken.None);
        var waiting = new ConcurrentDictionary<long, TaskCompletionSource>();
        var sendLock = new SemaphoreSlim(1);
        long nextId = 0;
        _ = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close) return;
                // "[48,ID,": the id is the second number.
                int i = 4;
                long id = 0;
                while (buffer[i] != (byte)',') id = id * 10 + (buffer[i++] - '0');
                if (waiting.TryRemove(id, out var tcs)) tcs.SetResult();
            }
        });
        async Task Call()
        {
            long id = Interlocked.Increment(ref nextId);
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting[id] = tcs;
            var message = Encoding.UTF8.GetBytes($$"""[48,{{id}},{},"com.example.echo",["hello",42,{"nested":[1,2,3]}]]""");
            await sendLock.WaitAsync();
            try { await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None); }
            finally { sendLock.Release(); }
            await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        foreach (int k in a.Levels)
        {
            var r = await Measure.RunAsync(k, a.Warmup, a.Seconds, Call);
            Console.WriteLine(r.ToJson("echo", k));
        }
        return 0;
    }
}

/// <summary>K workers, each keeping one operation outstanding: calls/s, latency percentiles and bytes allocated per call.</summary>
internal sealed record Measure(long Calls, long Errors, double Elapsed, double P50, double P99, double AllocatedPerCall)
{
    public static async Task<Measure> RunAsync(int k, double warmup, double seconds, Func<Task> call)
    {
        long calls = 0, errors = 0;
        bool measuring = false;
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(warmup + seconds);
        var workers = Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
        {
            // Sized up front (for up to 400,000 calls/s in all), so the measured window allocates nothing for the figures themselves.
            var mine = new List<double>(Math.Max(1024, (int)(seconds * 400_000 / k)));
            while (clock.Elapsed < end)
            {
                long start = Stopwatch.GetTimestamp();
                try
                {
                    await call().ConfigureAwait(false);
                    if (Volatile.Read(ref measuring))
                    {
                        mine.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    }
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            return mine;
        })).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var t0 = clock.Elapsed;
        Volatile.Write(ref measuring, true);
        var lists = await Task.WhenAll(workers);
        double elapsed = (clock.Elapsed - t0).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        // Merged after the allocations are read: what the figures cost is not the calls'.
        var all = lists.SelectMany(l => l).ToList();
        all.Sort();
        calls = all.Count;
        double P(double q) => all.Count == 0 ? 0 : all[(int)Math.Min(all.Count - 1, q * all.Count)];
        return new Measure(calls, errors, elapsed, P(0.5), P(0.99), calls == 0 ? 0 : (double)allocated / calls);
    }

    public string ToJson(string bench, int k) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"bench\":\"{bench}\",\"concurrency\":{k},\"seconds\":{Elapsed:0.000},\"calls\":{Calls},\"errors\":{Errors},\"calls_per_sec\":{Calls / Elapsed:0},\"p50_us\":{P50:0},\"p99_us\":{P99:0},\"alloc_bytes_per_call\":{AllocatedPerCall:0}}}");
}
