using System.Globalization;
using System.Runtime.InteropServices;
using WampContracts.Router;

// The standalone router: dotnet run --project src/Router -- --port 8080 --realm realm1
// Prints one line with its URL once it listens; stops cleanly on Ctrl+C or SIGTERM.
int port = 8080;
var realms = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 0 and <= 65535:
            port = p;
            i++;
            break;
        case "--realm" when i + 1 < args.Length:
            realms.Add(args[++i]);
            break;
        case "--help" or "-h":
            Console.WriteLine("usage: WampContracts.Router [--port N (default 8080, 0 = any free port)] [--realm NAME]...");
            Console.WriteLine("Without --realm, any realm is created on first use (development mode).");
            return 0;
        default:
            Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}' (try --help)");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });

WampRouter router;
try
{
    router = await WampRouter.StartAsync(new WampRouterOptions { Port = port, Realms = realms.Count > 0 ? realms : null });
}
catch (IOException e)
{
    Console.Error.WriteLine($"cannot listen on 127.0.0.1:{port}: {e.Message}");
    return 1;
}
await using (router)
{
    Console.WriteLine($"WAMP router listening on {router.Url} (realms: {(realms.Count > 0 ? string.Join(", ", realms) : "any, created on first use")})");
    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
    Console.WriteLine("stopping");
}
return 0;
