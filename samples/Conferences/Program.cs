using System.Globalization;
using Conferences;
using WampContracts;
using WampContracts.Hosting;
using WampContracts.Transport;

// The conferences demo: a web host with the embedded WAMP router, the conferences service, and a page that
// talks WAMP from the browser; then a console client that calls the service through the router.
// Usage: dotnet run --project samples/Conferences [-- --serve] [--port N] [--shutdown-timeout SECONDS] [--redis HOST:PORT]
// With --redis, the demo is one node of several sharing that Redis (start it twice, on two ports): the page on one node
// shows the updates made through the other (docs/scale-out.md).
// With --serve it keeps serving until SIGTERM, SIGINT (Ctrl+C) or SIGQUIT: then, however often the signal comes, it
// prints "stopping", says GOODBYE (wamp.close.system_shutdown) to every session and exits with code 0, after at most
// --shutdown-timeout seconds (default 10) whatever is still running.
int port = 0;
bool serve = false;
TimeSpan shutdownTimeout = ShutdownSignal.DefaultTimeout;
string? redis = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--serve") serve = true;
    else if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int p)) port = p;
    else if (args[i] == "--redis" && i + 1 < args.Length) redis = args[++i];
    else if (args[i] == "--shutdown-timeout" && i + 1 < args.Length && ShutdownSignal.TryParseTimeout(args[++i], out var t)) shutdownTimeout = t;
    else
    {
        Console.Error.WriteLine($"unknown argument '{args[i]}' (usage: [--serve] [--port N] [--shutdown-timeout SECONDS] [--redis HOST:PORT])");
        return 2;
    }
}

// Before anything starts: the one place that decides when this process stops (the web host takes no signal).
var shutdown = ShutdownSignal.Listen();

var app = await ConferencesApp.StartAsync(port, redis);
Console.WriteLine($"router: {app.RouterUrl} (realm {ConferencesApp.Realm})");
try
{
    await RunConsoleClientAsync(app, shutdown.Token);
    Console.WriteLine($"page: {app.PageUrl}");
    if (serve)
    {
        Console.WriteLine("serving until Ctrl+C or SIGTERM");
        await shutdown.Requested;
    }
}
catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
{
    // A signal while the console client ran: it stopped where it was; stop the rest too.
}

if (shutdown.Token.IsCancellationRequested) Console.WriteLine("stopping");
if (!await ShutdownSignal.CompletesWithinAsync(app.DisposeAsync, shutdownTimeout))
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the shutdown did not finish within {shutdownTimeout.TotalSeconds:0.###} s; exiting anyway"));
return 0;

// The console client: a session over a real WebSocket, through a network we can make fail on purpose.
static async Task RunConsoleClientAsync(ConferencesApp app, CancellationToken cancellationToken)
{
    var network = new FlakyNetwork();
    var reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50) };
    await using var client = await WampSession.JoinAsync(
        async ct => network.Wrap(await WebSocketTransport.ConnectAsync(app.RouterUrl, TimeSpan.FromSeconds(10), 16 * 1024 * 1024, ct)),
        ConferencesApp.Realm, ConferencesApp.SessionOptions(reconnect), cancellationToken);
    IConferences conferences = client.GetProxy<IConferences>();

    Conference conference = await conferences.Get(123, cancellationToken);
    Console.WriteLine($"await conferences.Get(123) -> {conference}");

    try
    {
        await conferences.Get(999, cancellationToken);
    }
    catch (ConferenceNotFoundException e)
    {
        Console.WriteLine($"await conferences.Get(999) -> {nameof(ConferenceNotFoundException)}: {e.Message}");
    }

    try
    {
        await conferences.Report(123, cancellationToken);
    }
    catch (WampTimeoutException e)
    {
        Console.WriteLine($"await conferences.Report(123) -> {nameof(WampTimeoutException)}: {e.Message}");
    }

    network.DropNextResult();
    Ticket ticket = await conferences.Register(123, new Attendee("Ada", "ada@example.com"), requestId: "ada-at-desymfony", cancellationToken);
    Console.WriteLine($"await conferences.Register(123, Ada) -> {ticket}; the connection dropped {network.Drops} time(s) " +
                      $"before the answer, the call was retried with the same idempotency key, tickets issued: {app.Service.TicketsIssued}");
}
