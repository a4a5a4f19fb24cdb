using System.Globalization;
using Conferences;
using WampContracts;
using WampContracts.Transport;

// The conferences demo: a web host with the embedded WAMP router, the conferences service, and a page that
// talks WAMP from the browser; then a console client that calls the service through the router.
// Usage: dotnet run --project samples/Conferences [-- --serve] [--port N]
int port = 0;
bool serve = false;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--serve") serve = true;
    else if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int p)) port = p;
    else
    {
        Console.Error.WriteLine($"unknown argument '{args[i]}' (usage: [--serve] [--port N])");
        return 2;
    }
}

await using var app = await ConferencesApp.StartAsync(port);
Console.WriteLine($"router: {app.RouterUrl} (realm {ConferencesApp.Realm})");

// The console client: a session over a real WebSocket, through a network we can make fail on purpose.
var network = new FlakyNetwork();
var reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50) };
await using (var client = await WampSession.JoinAsync(
    async ct => network.Wrap(await WebSocketTransport.ConnectAsync(app.RouterUrl, TimeSpan.FromSeconds(10), 16 * 1024 * 1024, ct)),
    ConferencesApp.Realm, ConferencesApp.SessionOptions(reconnect)))
{
    IConferences conferences = client.GetProxy<IConferences>();

    Conference conference = await conferences.Get(123);
    Console.WriteLine($"await conferences.Get(123) -> {conference}");

    try
    {
        await conferences.Get(999);
    }
    catch (ConferenceNotFoundException e)
    {
        Console.WriteLine($"await conferences.Get(999) -> {nameof(ConferenceNotFoundException)}: {e.Message}");
    }

    try
    {
        await conferences.Report(123);
    }
    catch (WampTimeoutException e)
    {
        Console.WriteLine($"await conferences.Report(123) -> {nameof(WampTimeoutException)}: {e.Message}");
    }

    network.DropNextResult();
    Ticket ticket = await conferences.Register(123, new Attendee("Ada", "ada@example.com"), requestId: "ada-at-desymfony");
    Console.WriteLine($"await conferences.Register(123, Ada) -> {ticket}; the connection dropped {network.Drops} time(s) " +
                      $"before the answer, the call was retried with the same idempotency key, tickets issued: {app.Service.TicketsIssued}");
}

Console.WriteLine($"page: {app.PageUrl}");
if (serve)
{
    Console.WriteLine("serving until Ctrl+C");
    var stopped = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopped.TrySetResult(); };
    await stopped.Task;
}
return 0;
