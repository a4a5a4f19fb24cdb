using System.Globalization;
using System.Text.Json;

namespace WampContracts.Bench;

/// <summary>
/// Runs every configuration in processes of its own, rounds interleaved (each round starts at the next
/// configuration), and reports medians as JSON lines and as a table of ratios against Autobahn|JS → fox-wamp.
/// </summary>
internal static class Matrix
{
    private static readonly string Root = FindRoot();
    private static readonly string PeersDir = Path.Combine(Root, "tests", "Interop", "peers");
    private static readonly string JsPeer = Path.Combine(Root, "bench", "CrossProcessBench", "js", "peer.js");
    private static readonly string Self = Path.Combine(AppContext.BaseDirectory, "CrossProcessBench.dll");
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How our standalone router is started: the one place to change when it moves. WAMPCONTRACTS_ROUTER overrides it
    /// with a command line (e.g. "dotnet path/to/router.dll"); "--port 0" is appended, and the router prints its
    /// ws:// URL on a line containing "listening on".
    /// </summary>
    private static (string Command, string[] Args) RouterCommand()
    {
        if (Environment.GetEnvironmentVariable("WAMPCONTRACTS_ROUTER") is { Length: > 0 } custom)
        {
            var parts = custom.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return (parts[0], [.. parts[1..], "--port", "0"]);
        }
        // The wamp-router tool from its own build output (built with this bench, in the same configuration): its
        // dependencies sit beside it there, resolved for it alone.
        string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;
        string tool = Path.Combine(Root, "src", "Router.Tool", "bin", configuration, "net10.0", "WampContracts.Router.Tool.dll");
        return ("dotnet", [tool, "--port", "0"]);
    }

    private sealed record Config(string Name, string Label, string Router, string Peers);

    private static readonly Config[] Configs =
    [
        new("js-fox-js", "Autobahn|JS → fox-wamp → Autobahn|JS", "fox", "js"),
        new("js-ours-js", "Autobahn|JS → our router → Autobahn|JS", "ours", "js"),
        new("cs-fox-cs", "our C# → fox-wamp → our C#", "fox", "cs"),
        new("cs-ours-cs", "our C# → our router → our C#", "ours", "cs"),
        new("relay", "naive .NET WebSocket relay, no WAMP", "relay", "relay"),
    ];

    public static async Task<int> RunAsync(Args a)
    {
        bool smoke = a.Has("smoke");
        int rounds = smoke ? 1 : a.Int("rounds", 3);
        double seconds = smoke ? 0.3 : a.Seconds, warmup = smoke ? 0.1 : a.Warmup;
        int[] levels = smoke ? [1, 64] : a.Levels;
        var only = (a.Get("only") ?? (smoke ? "rpc" : "rpc,fanout,idle,alloc")).Split(',');
        string? outPath = a.Get("out");
        using var output = outPath is null ? null : new StreamWriter(outPath, append: false);
        void Emit(string json)
        {
            Console.WriteLine(json);
            output?.WriteLine(json);
            output?.Flush();
        }
        Emit(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["bench"] = "machine", ["cores"] = Environment.ProcessorCount, ["dotnet"] = Environment.Version.ToString(),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription, ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            ["commit"] = Git("rev-parse --short HEAD"), ["rounds"] = rounds, ["seconds"] = seconds, ["levels"] = string.Join(",", levels),
        }));

        if (only.Contains("rpc"))
        {
            var results = new List<(string Config, int K, double Rate, double P50)>();
            var chosen = a.Get("configs")?.Split(',') ?? [.. Configs.Select(c => c.Name)];
            for (int round = 1; round <= rounds; round++)
            {
                for (int i = 0; i < Configs.Length; i++)
                {
                    var config = Configs[(i + round - 1) % Configs.Length];
                    if (!chosen.Contains(config.Name)) continue;
                    foreach (var line in RunRpc(config, levels, seconds, warmup))
                    {
                        using var doc = JsonDocument.Parse(line);
                        var r = doc.RootElement;
                        int k = r.GetProperty("concurrency").GetInt32();
                        results.Add((config.Name, k, r.GetProperty("calls_per_sec").GetDouble(), r.GetProperty("p50_us").GetDouble()));
                        Emit($"{{\"config\":\"{config.Name}\",\"round\":{round},{line[1..]}");
                        if (r.GetProperty("calls").GetInt64() == 0) throw new InvalidOperationException($"{config.Name} made no calls at K={k}");
                    }
                }
            }
            PrintRatios(results, levels, Emit);
        }
        if (only.Contains("alloc")) RunAlloc(seconds, warmup, Emit);
        if (only.Contains("fanout")) RunFanout(smoke ? 1 : rounds, seconds, Emit);
        if (only.Contains("idle")) RunIdle(a.Int("sessions", smoke ? 200 : 10_000), Emit);
        return 0;
    }

    private static List<string> RunRpc(Config config, int[] levels, double seconds, double warmup)
    {
        var lifetime = TimeSpan.FromSeconds(levels.Length * (seconds + warmup) + 90);
        string[] timing = ["--levels", string.Join(",", levels), "--seconds", F(seconds), "--warmup", F(warmup)];
        using var router = StartRouter(config.Router, lifetime, out var url);
        using var callee = config.Peers switch
        {
            "js" => StartReady("callee.js", "node", ["callee.js", "--url", url, "--only", "echo", "--lifetime", F(lifetime.TotalSeconds)], PeersDir, lifetime, "READY callee"),
            "cs" => StartReady("callee", "dotnet", [Self, "callee", "--url", url], null, lifetime, "READY callee"),
            _ => StartReady("relay-echo", "dotnet", [Self, "relay-echo", "--url", url], null, lifetime, "READY relay-echo"),
        };
        using var caller = config.Peers switch
        {
            "js" => Proc.Start("peer.js caller", "node", [JsPeer, "caller", "--url", url, "--lifetime", F(lifetime.TotalSeconds), .. timing], PeersDir, lifetime, NodeEnv),
            "cs" => Proc.Start("caller", "dotnet", [Self, "caller", "--url", url, .. timing], null, lifetime),
            _ => Proc.Start("relay-caller", "dotnet", [Self, "relay-caller", "--url", url, .. timing], null, lifetime),
        };
        var lines = caller.JsonLinesUntilExit(lifetime);
        if (lines.Count != levels.Length) throw new InvalidOperationException($"{config.Name}: the caller reported {lines.Count} of {levels.Length} levels");
        return lines;
    }

    private static Dictionary<string, string> NodeEnv => new() { ["WAMP_PEERS_DIR"] = PeersDir };

    private static Proc StartRouter(string kind, TimeSpan lifetime, out string url)
    {
        Proc router;
        string line;
        switch (kind)
        {
            case "fox":
                router = Proc.Start("fox-wamp", "node", ["fox-router.js", "--port", "0", "--lifetime", F(lifetime.TotalSeconds)], PeersDir, lifetime);
                line = router.WaitForLine("READY fox-wamp", Startup);
                break;
            case "ours":
                var (command, args) = RouterCommand();
                router = Proc.Start("router", command, args, null, lifetime);
                line = router.WaitForLine("listening on", Startup);
                break;
            case "host":
                router = Proc.Start("router-host", "dotnet", [Self, "router-host"], null, lifetime);
                line = router.WaitForLine("listening on", Startup);
                break;
            default:
                router = Proc.Start("relay", "dotnet", [Self, "relay"], null, lifetime);
                line = router.WaitForLine("listening on", Startup);
                break;
        }
        url = line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal));
        return router;
    }

    private static Proc StartReady(string name, string command, string[] args, string? dir, TimeSpan lifetime, string ready)
    {
        var p = Proc.Start(name, command, args, dir, lifetime, command == "node" ? NodeEnv : null);
        try
        {
            p.WaitForLine(ready, Startup);
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    /// <summary>Medians per configuration and K, and the table of ratios against the first configuration.</summary>
    private static void PrintRatios(List<(string Config, int K, double Rate, double P50)> results, int[] levels, Action<string> emit)
    {
        double Median(IEnumerable<double> xs)
        {
            var s = xs.OrderBy(x => x).ToArray();
            return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
        var baseline = Configs[0].Name;
        var table = new List<string>
        {
            "| K | " + string.Join(" | ", Configs.Select(c => c.Label)) + " |",
            "|---|" + string.Concat(Configs.Select(_ => "---|")),
        };
        foreach (int k in levels)
        {
            double baseRate = Median(results.Where(r => r.Config == baseline && r.K == k).Select(r => r.Rate));
            double baseP50 = Median(results.Where(r => r.Config == baseline && r.K == k).Select(r => r.P50));
            var cells = new List<string>();
            foreach (var c in Configs)
            {
                double rate = Median(results.Where(r => r.Config == c.Name && r.K == k).Select(r => r.Rate));
                double p50 = Median(results.Where(r => r.Config == c.Name && r.K == k).Select(r => r.P50));
                emit(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"median\":\"{c.Name}\",\"concurrency\":{k},\"calls_per_sec\":{rate:0},\"p50_us\":{p50:0},\"ratio\":{rate / baseRate:0.00},\"p50_ratio\":{p50 / baseP50:0.00}}}"));
                cells.Add(string.Create(CultureInfo.InvariantCulture, $"{rate:N0} ({rate / baseRate:0.00}×, p50 {p50:0} µs)"));
            }
            table.Add($"| {k} | {string.Join(" | ", cells)} |");
        }
        Console.WriteLine();
        Console.WriteLine("Medians, calls/s (ratio to the first column; p50 latency):");
        foreach (var row in table) Console.WriteLine(row);
        Console.WriteLine();
    }

    /// <summary>
    /// Bytes allocated per call in each .NET process of C# → our router → C#: the caller measures itself; the router
    /// (hosted in a bench process so it can tell) and the callee are asked before and after the caller's window.
    /// </summary>
    private static void RunAlloc(double seconds, double warmup, Action<string> emit)
    {
        var lifetime = TimeSpan.FromSeconds(4 * (seconds + warmup) + 90);
        foreach (int k in new[] { 1, 64 })
        {
            using var router = StartRouter("host", lifetime, out var url);
            using var callee = StartReady("callee", "dotnet", [Self, "callee", "--url", url], null, lifetime, "READY callee");
            // A first, unmeasured caller warms the router and callee up (JIT, pools).
            using (var warm = Proc.Start("caller", "dotnet", [Self, "caller", "--url", url, "--levels", "64", "--seconds", F(seconds), "--warmup", F(warmup)], null, lifetime))
                warm.JsonLinesUntilExit(lifetime);
            var (r0, c0) = (Stats(router), Stats(callee));
            using var caller = Proc.Start("caller", "dotnet", [Self, "caller", "--url", url, "--levels", k.ToString(CultureInfo.InvariantCulture), "--seconds", F(seconds), "--warmup", F(warmup)], null, lifetime);
            var line = caller.JsonLinesUntilExit(lifetime).Single();
            var (r1, c1) = (Stats(router), Stats(callee));
            using var doc = JsonDocument.Parse(line);
            double calls = c1.Count - c0.Count; // everything the callee answered while the caller ran, warm-up included
            emit(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"alloc\",\"concurrency\":{k},\"calls\":{calls},\"caller_bytes_per_call\":{doc.RootElement.GetProperty("alloc_bytes_per_call").GetDouble():0},\"router_bytes_per_call\":{(r1.Allocated - r0.Allocated) / calls:0},\"callee_bytes_per_call\":{(c1.Allocated - c0.Allocated) / calls:0}}}"));
        }
    }

    private static (long Count, long Allocated) Stats(Proc p)
    {
        p.Send("stats");
        var parts = p.WaitForLine("STATS", TimeSpan.FromSeconds(10)).Split(' ');
        return (long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>One publisher, 50 subscriber connections with 20 topics each (1,000 subscriptions): events delivered per second.</summary>
    private static void RunFanout(int rounds, double seconds, Action<string> emit)
    {
        var configs = new[] { ("js-fox-js", "fox", "js"), ("js-ours-js", "ours", "js"), ("cs-ours-cs", "ours", "cs") };
        var rates = new Dictionary<string, List<double>>();
        var lifetime = TimeSpan.FromSeconds(seconds + 120);
        for (int round = 1; round <= rounds; round++)
        {
            for (int i = 0; i < configs.Length; i++)
            {
                var (name, routerKind, peers) = configs[(i + round - 1) % configs.Length];
                using var router = StartRouter(routerKind, lifetime, out var url);
                string[] shape = ["--url", url, "--connections", "50", "--topics", "20"];
                using var subscribers = peers == "js"
                    ? StartReady("fanout-sub", "node", [JsPeer, "fanout-sub", .. shape], PeersDir, lifetime, "READY fanout-sub")
                    : StartReady("fanout-sub", "dotnet", [Self, "fanout-sub", .. shape], null, lifetime, "READY fanout-sub");
                using var publisher = peers == "js"
                    ? StartReady("fanout-pub", "node", [JsPeer, "fanout-pub", .. shape], PeersDir, lifetime, "READY fanout-pub")
                    : StartReady("fanout-pub", "dotnet", [Self, "fanout-pub", .. shape], null, lifetime, "READY fanout-pub");
                Thread.Sleep(TimeSpan.FromSeconds(Math.Min(1, seconds)));
                long n0 = Count(subscribers);
                var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                Thread.Sleep(TimeSpan.FromSeconds(seconds));
                long n1 = Count(subscribers);
                double rate = (n1 - n0) / System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
                (rates.TryGetValue(name, out var list) ? list : rates[name] = []).Add(rate);
                emit(string.Create(CultureInfo.InvariantCulture, $"{{\"bench\":\"fanout\",\"config\":\"{name}\",\"round\":{round},\"events_per_sec\":{rate:0}}}"));
            }
        }
        double baseRate = Median(rates["js-fox-js"]);
        foreach (var (name, list) in rates)
            emit(string.Create(CultureInfo.InvariantCulture, $"{{\"median\":\"fanout {name}\",\"events_per_sec\":{Median(list):0},\"ratio\":{Median(list) / baseRate:0.00}}}"));
    }

    private static long Count(Proc subscribers)
    {
        subscribers.Send("count");
        return long.Parse(subscribers.WaitForLine("COUNT", TimeSpan.FromSeconds(10)).Split(' ')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Memory of our router per idle joined session: one client process joins N sessions that then do nothing. Measured
    /// twice: the resident memory of the router process (before and after), and the live managed heap of the router
    /// hosted in a bench process (after full collections, before and after).
    /// </summary>
    private static void RunIdle(int sessions, Action<string> emit)
    {
        var lifetime = TimeSpan.FromMinutes(5);
        long rssBefore, rssAfter, heapBefore, heapAfter;
        using (var router = StartRouter("ours", lifetime, out var url))
        {
            Thread.Sleep(1000);
            rssBefore = router.ResidentBytes();
            rssAfter = WhileJoined(url, sessions, lifetime, router.ResidentBytes);
        }
        using (var host = StartRouter("host", lifetime, out var url))
        {
            heapBefore = Heap(host);
            heapAfter = WhileJoined(url, sessions, lifetime, () => Heap(host));
        }
        emit(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"idle\",\"sessions\":{sessions},\"router_rss_before\":{rssBefore},\"router_rss_after\":{rssAfter},\"rss_bytes_per_session\":{(rssAfter - rssBefore) / (double)sessions:0},\"managed_heap_bytes_per_session\":{(heapAfter - heapBefore) / (double)sessions:0}}}"));
    }

    /// <summary>Measures while one client process holds <paramref name="n"/> joined, idle sessions.</summary>
    private static long WhileJoined(string url, int n, TimeSpan bound, Func<long> measure)
    {
        using var clients = Proc.Start("idle", "dotnet", [Self, "idle", "--url", url, "--sessions", n.ToString(CultureInfo.InvariantCulture)], null, bound);
        int joined = int.Parse(clients.WaitForLine("JOINED", TimeSpan.FromMinutes(3)).Split(' ')[1], CultureInfo.InvariantCulture);
        if (joined != n) throw new InvalidOperationException($"only {joined} of {n} sessions joined");
        Thread.Sleep(3000);
        return measure();
    }

    private static long Heap(Proc host)
    {
        host.Send("heap");
        return long.Parse(host.WaitForLine("HEAP", TimeSpan.FromSeconds(30)).Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string F(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Git(string args)
    {
        try
        {
            var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", args) { RedirectStandardOutput = true, WorkingDirectory = Root })!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return s;
        }
        catch (Exception)
        {
            return "unknown";
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Contracts.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the bench from inside the repository (Contracts.sln not found above " + AppContext.BaseDirectory + ").");
    }
}
