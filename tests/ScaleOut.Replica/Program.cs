using StackExchange.Redis;
using WampContracts;
using WampContracts.Redis;
using WampContracts.ScaleOut.Replica;

// A replica of the ledger service: joins the first reachable router of its --url list (failing over to the next),
// shares the procedure with the other replicas (roundrobin) and their idempotency store in Redis, and records each
// effect in Redis (outside the replicas), where the test counts them.
// Usage: ScaleOut.Replica --redis HOST:PORT --url ws://… [--url ws://…]... [--work-ms N]
string? redis = null;
var urls = new List<Uri>();
int workMs = 100;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--redis": redis = args[i + 1]; break;
        case "--url": urls.Add(new Uri(args[i + 1])); break;
        case "--work-ms": workMs = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            return 2;
    }
}
if (redis is null || urls.Count == 0)
{
    Console.Error.WriteLine("usage: ScaleOut.Replica --redis HOST:PORT --url ws://… [--url ws://…]... [--work-ms N]");
    return 2;
}

await using var connection = await ConnectionMultiplexer.ConnectAsync(redis);
var options = new WampSessionOptions
{
    // A claim whose replica was killed lapses after 2 s: a retry then runs the work on another replica.
    IdempotencyStore = new RedisIdempotencyStore(connection, claimLease: TimeSpan.FromSeconds(2)),
    ContractRegisterOptions = new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin },
    Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) },
};
await using var session = await WampSession.ConnectToClusterAsync(urls, "realm1", options);
await using var registration = await session.RegisterAsync<ILedger>(new Ledger(connection.GetDatabase(), workMs));
Console.WriteLine("replica ready");
// Runs until killed, or until its standard input closes.
await Console.In.ReadLineAsync();
return 0;
