using System.Diagnostics;
using System.Globalization;
using System.Text;
using WampContracts;
using WampContracts.Router;
using WampContracts.Serialization;

// The serializer and transport matrix: JSON, MessagePack and CBOR over WebSocket and RawSocket.
// 1. Calls: for each cell, one callee and K callers speaking that serializer over that transport through the embedded
//    router (so each message is transcoded twice on the way: caller -> router -> callee, and back), K calls
//    outstanding. The cells are measured side by side: ROUNDS rounds, each giving every cell one SLICE-second slice
//    in turn, so the machine's load drifts over all of them alike; reported as calls/s and as a ratio to JSON over
//    WebSocket.
// 2. Transcoding alone: a CALL of a small payload and an EVENT carrying 1 KiB of binary, to and from each binary
//    format, per message; and the size of each on the wire.
// Usage: dotnet run -c Release --project bench/WireBench [ROUNDS=4] [SLICE=0.5] [K=16] [PAYLOAD=small|binary]
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4;
double slice = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 0.5;
int k = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
string payloadKind = args.Length > 3 ? args[3] : "small";
rounds = Math.Clamp(rounds, 1, 40);
slice = Math.Clamp(slice, 0.1, 5);

var binary = new byte[1024];
new Random(1).NextBytes(binary);
var payload = payloadKind == "binary"
    ? WampPayload.FromArgs(binary, "blob")
    : WampPayload.FromJson("""["hello",42,{"nested":[1,2,3]}]""");

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}; router, callee and callers in one process; K={k}, payload {payloadKind}, {rounds} rounds of {slice:0.##} s slices");

await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, RawSocketPort = 0 });
var cells = new List<Cell>();
foreach (var transport in new[] { "websocket", "rawsocket" })
foreach (var serializer in WampSerializer.All)
{
    var options = new WampSessionOptions { Serializers = [serializer] };
    var url = transport == "websocket" ? router.Url! : router.RawSocketUrl!;
    var callee = await WampSession.ConnectAsync(url, "realm1", options);
    string procedure = $"com.example.echo.{transport}.{serializer.Name}";
    await callee.RegisterAsync(procedure, (inv, ct) => ValueTask.FromResult(inv.Payload));
    var caller = await WampSession.ConnectAsync(url, "realm1", options);
    cells.Add(new Cell(transport, serializer.Name, procedure, callee, caller));
}

foreach (var cell in cells) await RunAsync(cell, 0.3, record: false); // warm-up
for (int r = 0; r < rounds; r++)
    foreach (var cell in cells) await RunAsync(cell, slice, record: true);

double baseline = cells[0].Calls / cells[0].Seconds;
foreach (var cell in cells)
{
    cell.Latencies.Sort();
    double P(double q) => cell.Latencies.Count == 0 ? 0 : cell.Latencies[(int)Math.Min(cell.Latencies.Count - 1, q * cell.Latencies.Count)];
    double rate = cell.Calls / cell.Seconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"bench\":\"echo\",\"transport\":\"{cell.Transport}\",\"serializer\":\"{cell.Serializer}\",\"concurrency\":{k},\"calls\":{cell.Calls},\"errors\":{cell.Errors},\"calls_per_sec\":{rate:0},\"ratio_to_json_websocket\":{rate / baseline:0.00},\"p50_us\":{P(0.5):0},\"p99_us\":{P(0.99):0}}}"));
}
foreach (var cell in cells)
{
    await cell.Caller.DisposeAsync();
    await cell.Callee.DisposeAsync();
}

// Transcoding alone, per message.
var messages = new (string Name, byte[] Json)[]
{
    ("call", Encoding.UTF8.GetBytes("""[48,1234,{"timeout":30000},"com.example.echo",["hello",42,{"nested":[1,2,3]}]]""")),
    ("event_1KiB_binary", Encoding.UTF8.GetBytes($$"""[36,5,6,{},["\u0000{{Convert.ToBase64String(binary)}}","blob"]]""")),
};
foreach (var (name, json) in messages)
foreach (var serializer in WampSerializer.All.Where(s => s.IsBinary))
{
    byte[] buffer = [];
    int length = serializer.FromJson(json, ref buffer);
    var native = buffer.AsSpan(0, length).ToArray();
    double encodeNs = Time(() => serializer.FromJson(json, ref buffer));
    double decodeNs = Time(() => serializer.ToJson(native));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"bench\":\"transcode\",\"message\":\"{name}\",\"serializer\":\"{serializer.Name}\",\"json_bytes\":{json.Length},\"bytes\":{native.Length},\"from_json_ns\":{encodeNs:0},\"to_json_ns\":{decodeNs:0}}}"));
}

static double Time(Action action)
{
    for (int i = 0; i < 10_000; i++) action();
    const int n = 200_000;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < n; i++) action();
    return clock.Elapsed.TotalNanoseconds / n;
}

async Task RunAsync(Cell cell, double duration, bool record)
{
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(duration);
    long calls = 0, errors = 0;
    var all = new List<double>();
    await Task.WhenAll(Enumerable.Range(0, k).Select(_ => Task.Run(async () =>
    {
        var mine = new List<double>();
        while (clock.Elapsed < until)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await cell.Caller.CallAsync(cell.Procedure, payload);
                Interlocked.Increment(ref calls);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref errors);
            }
        }
        lock (all) all.AddRange(mine);
    })));
    if (!record) return;
    cell.Calls += calls;
    cell.Errors += errors;
    cell.Seconds += clock.Elapsed.TotalSeconds;
    cell.Latencies.AddRange(all);
}

sealed class Cell(string transport, string serializer, string procedure, WampSession callee, WampSession caller)
{
    public string Transport { get; } = transport;
    public string Serializer { get; } = serializer;
    public string Procedure { get; } = procedure;
    public WampSession Callee { get; } = callee;
    public WampSession Caller { get; } = caller;
    public long Calls { get; set; }
    public long Errors { get; set; }
    public double Seconds { get; set; }
    public List<double> Latencies { get; } = new();
}
