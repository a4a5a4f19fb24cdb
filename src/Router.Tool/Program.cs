using System.Globalization;
using WampContracts.Hosting;
using WampContracts.Router;
using WampContracts.Router.Configuration;

// The standalone router (the wamp-router tool): wamp-router --port 8080 --realm realm1, from source
// dotnet run --project src/Router.Tool -- --port 8080 --realm realm1
// or, with realms, roles and the listening endpoint from a Crossbar.io-shaped file: -- --config config.json
// With --tls-cert FILE [--tls-key FILE] (PEM) it serves wss://; --allow-origin restricts browser origins;
// --rawsocket-port PORT adds a RawSocket listener (tcp://).
// Prints one line with its URL once it listens. SIGTERM, SIGINT (Ctrl+C) or SIGQUIT, once or repeatedly, start one
// graceful shutdown: it prints "stopping", says GOODBYE (wamp.close.system_shutdown) to every session, closes the
// listener and exits with code 0, after at most --shutdown-timeout seconds whatever is still running.
// Socket completions run on the runtime's event threads instead of being handed to the thread pool, and the router's
// work on a connection read by the thread pool (past the connections that get a reader thread of their own, and every
// TLS one) runs there too, since it never blocks: one wake-up per message instead of two. Set before any socket
// exists (the runtime reads it once); an explicit setting in the environment wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

int port = 8080;
bool portGiven = false;
string? configPath = null;
var realms = new List<string>();
TimeSpan shutdownTimeout = ShutdownSignal.DefaultTimeout;
string? tlsCertificate = null, tlsKey = null;
var allowedOrigins = new List<string>();
string? redis = null;
TimeSpan? nodeTimeout = null;
int? rawSocketPort = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 0 and <= 65535:
            port = p;
            portGiven = true;
            i++;
            break;
        case "--rawsocket-port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int rp) && rp is >= 0 and <= 65535:
            rawSocketPort = rp;
            i++;
            break;
        case "--config" when i + 1 < args.Length:
            configPath = args[++i];
            break;
        case "--realm" when i + 1 < args.Length:
            realms.Add(args[++i]);
            break;
        case "--shutdown-timeout" when i + 1 < args.Length && ShutdownSignal.TryParseTimeout(args[i + 1], out var t):
            shutdownTimeout = t;
            i++;
            break;
        case "--tls-cert" when i + 1 < args.Length:
            tlsCertificate = args[++i];
            break;
        case "--tls-key" when i + 1 < args.Length:
            tlsKey = args[++i];
            break;
        case "--allow-origin" when i + 1 < args.Length:
            allowedOrigins.Add(args[++i]);
            break;
        case "--redis" when i + 1 < args.Length:
            redis = args[++i];
            break;
        case "--node-timeout" when i + 1 < args.Length && ShutdownSignal.TryParseTimeout(args[i + 1], out var n) && n > TimeSpan.Zero:
            nodeTimeout = n;
            i++;
            break;
        case "--help" or "-h":
            Console.WriteLine("usage: wamp-router [--port N (default 8080, 0 = any free port)] [--realm NAME]... [--shutdown-timeout SECONDS (default 10)]");
            Console.WriteLine("                   [--tls-cert FILE [--tls-key FILE]] [--allow-origin ORIGIN]...");
            Console.WriteLine("       wamp-router --config FILE [--port N (overrides the file's port)] [--shutdown-timeout SECONDS]");
            Console.WriteLine("Without --realm or --config, any realm is created on first use (development mode).");
            Console.WriteLine("--config reads a Crossbar.io-shaped config.json: realms, roles and permissions, authentication, the listening");
            Console.WriteLine("  endpoint with its TLS files, and allowed origins (see docs/security.md). An invalid file is refused with the");
            Console.WriteLine("  JSON path of the setting (exit code 2).");
            Console.WriteLine("--tls-cert FILE: serve wss:// with the PEM certificate in FILE (followed by its intermediates, if any);");
            Console.WriteLine("  --tls-key FILE: its unencrypted PEM private key (default: the key in the --tls-cert file).");
            Console.WriteLine("--allow-origin ORIGIN: accept browser WebSocket upgrades only from these origins, e.g. https://app.example.com");
            Console.WriteLine("  (repeat for each; 'null' must be listed to allow it); others get HTTP 403. Clients that send no Origin");
            Console.WriteLine("  header (not browsers) are accepted. Without it, any origin is accepted: set it in production.");
            Console.WriteLine("--redis HOST:PORT: join the router nodes sharing this Redis; together they serve the same realms as one");
            Console.WriteLine("  router (see docs/scale-out.md). Also \"backplane\": {\"type\": \"redis\", \"endpoint\": \"HOST:PORT\"} in --config.");
            Console.WriteLine("--node-timeout SECONDS (default 5): with --redis, how long a node may miss its heartbeat before the others count");
            Console.WriteLine("  it dead, fail the calls in flight to its callees and drop its registrations.");
            Console.WriteLine("--rawsocket-port N: also listen for RawSocket (tcp://, JSON, MessagePack or CBOR) on port N (0 = any free port).");
            Console.WriteLine("SIGTERM, SIGINT (Ctrl+C) or SIGQUIT, however often, start one graceful shutdown: GOODBYE");
            Console.WriteLine("(wamp.close.system_shutdown) to every session, then the listener closes. Past --shutdown-timeout");
            Console.WriteLine("seconds the router exits anyway; the exit code is 0 either way.");
            return 0;
        default:
            Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}' (try --help)");
            return 2;
    }
}

WampRouterOptions options;
if (configPath is not null)
{
    if (realms.Count > 0 || tlsCertificate is not null || tlsKey is not null || allowedOrigins.Count > 0)
    {
        Console.Error.WriteLine("--config excludes --realm, --tls-cert, --tls-key and --allow-origin: put them in the file");
        return 2;
    }
    try
    {
        options = WampRouterConfiguration.Load(configPath).ToOptions(portGiven ? port : null, rawSocketPort);
    }
    catch (WampConfigurationException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    realms.AddRange(options.RealmSettings!.Select(r => r.Name));
}
else
{
    options = new WampRouterOptions
    {
        Port = port,
        Realms = realms.Count > 0 ? realms : null,
        TlsCertificateFile = tlsCertificate,
        TlsKeyFile = tlsKey,
        AllowedOrigins = allowedOrigins.Count > 0 ? allowedOrigins : null,
        RawSocketPort = rawSocketPort,
    };
}

redis ??= configPath is not null ? WampRouterConfiguration.Load(configPath).RedisEndpoint : null;
if (redis is null && nodeTimeout is not null)
{
    Console.Error.WriteLine("--node-timeout applies to a backplane: give --redis HOST:PORT (or \"backplane\" in --config) too");
    return 2;
}
if (redis is not null)
{
    // The tool ships the Redis backplane; the router library itself keeps no Redis dependency.
    options.Backplane = WampContracts.Router.Redis.RedisBackplane.FromConfiguration(redis, nodeTimeout ?? TimeSpan.FromSeconds(5));
}

// Before anything starts, so a signal during startup is kept and acted on once the router is up.
var shutdown = ShutdownSignal.Listen();

WampRouter router;
try
{
    router = await WampRouter.StartAsync(options);
}
catch (ArgumentException e)
{
    // A certificate that cannot be loaded, or an origin that is not one: nothing was started.
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (IOException e)
{
    Console.Error.WriteLine($"cannot listen on {options.Address}:{options.Port}: {e.Message}");
    return 1;
}
Console.WriteLine($"WAMP router listening on {router.Url} (realms: {(realms.Count > 0 ? string.Join(", ", realms) : configPath is null ? "any, created on first use" : "none")})");
if (router.RawSocketUrl is { } rawSocketUrl)
    Console.WriteLine($"WAMP router listening for RawSocket on {rawSocketUrl}");
if (router.Certificate is { } certificate)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"TLS certificate '{certificate.Subject}', SHA-256 {Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))}, valid until {certificate.NotAfter.ToUniversalTime():u}"));

await shutdown.Requested;
Console.WriteLine("stopping");
if (!await ShutdownSignal.CompletesWithinAsync(router.DisposeAsync, shutdownTimeout))
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the shutdown did not finish within {shutdownTimeout.TotalSeconds:0.###} s; exiting anyway"));
return 0;

/// <summary>The tool's entry point; internal, so the assembly exports no types (ASP.NET Core would otherwise make it public).</summary>
internal sealed partial class Program;
