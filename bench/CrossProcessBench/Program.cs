using System.Globalization;
using WampContracts.Bench;

// The cross-process bench: `dotnet run -c Release --project bench/CrossProcessBench` runs the whole matrix (see
// docs/performance.md); the other modes are the .NET peers it starts as processes of their own.
var a = new Args(args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[1..] : args);
string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "matrix";
AllocationSampler.StartIfAsked(mode);
return mode switch
{
    "matrix" => await Matrix.RunAsync(a),
    "callee" => await Peers.CalleeAsync(a),
    "caller" => await Peers.CallerAsync(a),
    "router-host" => await Peers.RouterHostAsync(a),
    "relay" => await Peers.RelayAsync(a),
    "relay-echo" => await Peers.RelayEchoAsync(a),
    "relay-caller" => await Peers.RelayCallerAsync(a),
    "idle" => await Peers.IdleAsync(a),
    "fanout-sub" => await Peers.FanoutSubscriberAsync(a),
    "fanout-pub" => await Peers.FanoutPublisherAsync(a),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: CrossProcessBench [matrix] [--rounds 3] [--seconds 3] [--warmup 0.5] [--levels 1,16,64,256] [--only rpc,fanout,idle,alloc] [--configs js-fox-js,...] [--out FILE.jsonl] [--smoke]");
    return 2;
}

namespace WampContracts.Bench
{
    /// <summary>"--name value" options.</summary>
    internal sealed class Args(string[] args)
    {
        public string? Get(string name)
        {
            int i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        public bool Has(string name) => Array.IndexOf(args, "--" + name) >= 0;

        public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        public double Double(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

        public Uri Url => new(Get("url") ?? throw new ArgumentException("--url is required"));

        public int[] Levels => (Get("levels") ?? "1,16,64,256").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        public double Seconds => Math.Min(Double("seconds", 3), 60);

        public double Warmup => Math.Min(Double("warmup", 0.5), 10);
    }
}
