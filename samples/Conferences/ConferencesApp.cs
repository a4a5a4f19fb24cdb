using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WampContracts;
using WampContracts.Hosting;
using WampContracts.Router;

namespace Conferences;

/// <summary>
/// The web host: one ASP.NET Core app on 127.0.0.1 that serves the page, runs the embedded WAMP router at
/// <c>/ws</c>, and runs the conferences service as a session of that router.
/// </summary>
public sealed class ConferencesApp : IAsyncDisposable
{
    public const string Realm = "conferences";

    private readonly WebApplication _app;
    private readonly WampRouter _router;
    private readonly WampSession _serviceSession;
    private readonly IAsyncDisposable _registration;

    private ConferencesApp(WebApplication app, WampRouter router, WampSession serviceSession, IAsyncDisposable registration, ConferenceService service, Uri pageUrl)
    {
        _app = app;
        _router = router;
        _serviceSession = serviceSession;
        _registration = registration;
        Service = service;
        PageUrl = pageUrl;
        RouterUrl = new Uri($"ws://{pageUrl.Authority}/ws");
    }

    /// <summary>The page: http://127.0.0.1:PORT/.</summary>
    public Uri PageUrl { get; }

    /// <summary>The WAMP router's WebSocket address: ws://127.0.0.1:PORT/ws.</summary>
    public Uri RouterUrl { get; }

    public ConferenceService Service { get; }

    /// <summary>Session options for this app's contracts: source-generated JSON, so nothing needs reflection.</summary>
    public static WampSessionOptions SessionOptions(WampReconnectPolicy? reconnect = null) =>
        new() { JsonSerializerOptions = ConferencesJson.Default.Options, Reconnect = reconnect };

    /// <summary>
    /// The demo realm: browsers join anonymously (role <c>browser</c>) and may call the conferences' procedures and
    /// subscribe to their events, but not register or publish; the service authenticates with a ticket (role
    /// <c>service</c>) and may register and publish them. The ticket is made anew at every start.
    /// </summary>
    private static WampRealmOptions RealmSettings(string serviceTicket) => new()
    {
        Name = Realm,
        Authentication =
        [
            new WampAnonymousAuthenticator { Role = "browser" },
            new WampTicketAuthenticator { Principals = new Dictionary<string, WampTicketPrincipal> { [ServiceAuthId] = new(serviceTicket, "service") } },
        ],
        Roles =
        [
            new WampRole { Name = "browser", Permissions = [new WampPermission("com.example.conferences.", WampMatch.Prefix) { Call = true, Subscribe = true }] },
            new WampRole { Name = "service", Permissions = [new WampPermission("com.example.conferences.", WampMatch.Prefix) { Call = true, Register = true, Publish = true, Subscribe = true }] },
        ],
    };

    private const string ServiceAuthId = "conferences-service";

    /// <param name="redis">With a Redis endpoint, this app is one node of several sharing it: the service's procedures are
    /// shared (roundrobin) with the other nodes' services, and events reach the pages on every node.</param>
    public static async Task<ConferencesApp> StartAsync(int port = 0, string? redis = null, CancellationToken cancellationToken = default)
    {
        string serviceTicket = System.Security.Cryptography.RandomNumberGenerator.GetHexString(32, lowercase: true);
        var routerOptions = new WampRouterOptions { RealmSettings = [RealmSettings(serviceTicket)] };
        if (redis is not null) WampContracts.Router.Redis.RedisBackplaneExtensions.UseRedisBackplane(routerOptions, redis);
        var router = WampRouter.CreateInMemory(routerOptions);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The host takes no process signal: Program.cs alone decides when to stop, and stops this app with DisposeAsync.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws", ws => ws.Run(router.HandleAsync));
        string root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        app.Run(context => context.Request.Path.Value switch
        {
            "/" or "/index.html" => SendFileAsync(context, Path.Combine(root, "index.html"), "text/html; charset=utf-8"),
            "/autobahn.min.js" => SendFileAsync(context, Path.Combine(root, "autobahn.min.js"), "text/javascript; charset=utf-8"),
            // The page's typed client, generated from the contracts at build time (WampTypeScriptOutput).
            ("/contracts/conferences.js" or "/contracts/wamp-contracts.js") and var file => SendFileAsync(context, Path.Combine(root, file[1..]), "text/javascript; charset=utf-8"),
            _ => NotFoundAsync(context),
        });
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var pageUrl = new Uri($"http://127.0.0.1:{new Uri(address).Port}/");

        // The service is a session of the router like any other, over an in-memory connection.
        var serviceOptions = new WampSessionOptions
        {
            JsonSerializerOptions = ConferencesJson.Default.Options,
            Authentication = new WampAuthentication { AuthId = ServiceAuthId, Methods = [WampCredential.Ticket(serviceTicket)] },
            // Several nodes: each node's service takes its share of the calls (each keeps its own data in this demo).
            ContractRegisterOptions = redis is null ? WampRegisterOptions.Default : new WampRegisterOptions { Invoke = WampInvokePolicy.RoundRobin },
        };
        var session = await WampSession.JoinAsync(router.ConnectInMemory(), Realm, serviceOptions, cancellationToken);
        var service = new ConferenceService(session.GetPublisher<IConferenceEvents>(), TimeProvider.System);
        var registration = await session.RegisterAsync<IConferences>(service, cancellationToken);
        return new ConferencesApp(app, router, session, registration, service, pageUrl);
    }

    private static async Task SendFileAsync(HttpContext context, string path, string contentType)
    {
        context.Response.ContentType = contentType;
        await context.Response.SendFileAsync(path);
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _serviceSession.DisposeAsync();
        await _router.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
