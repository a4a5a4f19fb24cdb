using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WampContracts.Hosting;
using WampContracts.Router.Core;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>
/// An embedded WAMP v2 router: dealer and broker for any number of realms, on Kestrel WebSockets
/// (subprotocols <c>wamp.2.json</c>, <c>wamp.2.msgpack</c>, <c>wamp.2.cbor</c>), RawSocket or in memory.
/// </summary>
public sealed class WampRouter : IAsyncDisposable
{
    private readonly RouterCore _core;
    private readonly WebApplication? _app;
    private readonly OriginPolicy _origins;
    private readonly RouterCertificate? _certificate;
    private RawSocketListener? _rawSocket;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private WampRouter(RouterCore core, OriginPolicy origins, WebApplication? app, Uri? url, RouterCertificate? certificate = null)
    {
        _core = core;
        _origins = origins;
        _app = app;
        Url = url;
        _certificate = certificate;
    }

    /// <summary>Checks the connection settings (origins, keepalive) before anything is built.</summary>
    private static OriginPolicy CheckConnectionSettings(WampRouterOptions options)
    {
        CheckKeepAlive(options.KeepAliveInterval, nameof(WampRouterOptions.KeepAliveInterval));
        CheckKeepAlive(options.KeepAliveTimeout, nameof(WampRouterOptions.KeepAliveTimeout));
        return new OriginPolicy(options.AllowedOrigins, options.AllowMissingOrigin);
    }

    private static void CheckKeepAlive(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, zero or Timeout.InfiniteTimeSpan (both of the last turn it off).");
    }

    /// <summary>The <c>ws://</c> address clients connect to, <c>wss://</c> with a TLS certificate (null for an in-memory router).</summary>
    public Uri? Url { get; private set; }

    /// <summary>The <c>tcp://</c> address of the RawSocket listener (<see cref="WampRouterOptions.RawSocketPort"/>); null without one.</summary>
    public Uri? RawSocketUrl { get; private set; }

    /// <summary>The number of sessions currently joined, across realms.</summary>
    public int SessionCount => _core.SessionCount;

    internal int RealmCount => _core.RealmCount;

    internal int ConnectionCount => _core.ConnectionCount;

    internal RouterCore Core => _core;

    /// <summary>The services of the Kestrel host (null for an in-memory router).</summary>
    internal IServiceProvider? HostServices => _app?.Services;

    /// <summary>The certificate the router serves <c>wss://</c> with (null for <c>ws://</c>).</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate => _certificate?.Certificate;

    /// <summary>
    /// Starts a router listening on <see cref="WampRouterOptions.Address"/> (127.0.0.1 by default) and <see cref="WampRouterOptions.Port"/>.
    /// It takes no process signal (SIGTERM, Ctrl+C): the application that starts it decides when to stop it, with <see cref="DisposeAsync"/>.
    /// With <see cref="WampRouterOptions.TlsCertificate"/> or <see cref="WampRouterOptions.TlsCertificateFile"/> it serves <c>wss://</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The TLS settings or <see cref="WampRouterOptions.AllowedOrigins"/> are invalid (a certificate file is missing or unreadable, ...).</exception>
    public static async Task<WampRouter> StartAsync(WampRouterOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new WampRouterOptions();
        var origins = CheckConnectionSettings(options);
        var certificate = RouterCertificate.From(options);
        WampRouter router;
        WebApplication app;
        try
        {
            var core = new RouterCore(options);
            core.StartBackplane();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            // A library never takes the process's signals: the default console lifetime would, and stop only this host.
            builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.HandleOnIoThreads);
            builder.WebHost.UseKestrel(k => k.Listen(options.Address, options.Port, listen =>
            {
                if (certificate is not null)
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate.Certificate, ServerCertificateChain = certificate.Chain });
            }));
            app = builder.Build();
            app.UseWebSockets();
            router = new WampRouter(core, origins, app, null, certificate);
            app.Run(router.HandleAsync);
        }
        catch
        {
            certificate?.Dispose();
            throw;
        }
        try
        {
            // Sessions are taken once the backplane is reachable (bounded; without it the router serves anyway).
            await router._core.WaitForBackplaneAsync(RouterCore.BackplaneJoinBound, cancellationToken).ConfigureAwait(false);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await router.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        string host = options.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{options.Address}]" : options.Address.ToString();
        router.Url = new Uri($"{(certificate is null ? "ws" : "wss")}://{host}:{port}/");
        if (options.RawSocketPort is { } rawSocketPort)
        {
            try
            {
                router._rawSocket = RawSocketListener.Start(router._core, options.Address, rawSocketPort);
            }
            catch
            {
                await router.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            router.RawSocketUrl = new Uri($"tcp://{host}:{router._rawSocket.Port}");
        }
        return router;
    }

    /// <summary>Creates a router with no listener; connect to it with <see cref="ConnectInMemory"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="WampRouterOptions.AllowedOrigins"/> or the keepalive settings are invalid (they apply to <see cref="HandleAsync"/>).</exception>
    public static WampRouter CreateInMemory(WampRouterOptions? options = null)
    {
        options ??= new WampRouterOptions();
        var origins = CheckConnectionSettings(options);
        var core = new RouterCore(options);
        core.StartBackplane();
        return new(core, origins, null, null);
    }

    /// <summary>Opens an in-memory connection to this router; pass the result to <c>WampSession.JoinAsync</c>.</summary>
    public IWampTransport ConnectInMemory()
    {
        var (client, server) = InMemoryTransport.CreatePair(_core.Options.MaxMessageSize);
        _ = ServeAsync(server);
        return client;
    }

    /// <summary>Serves one session over a transport you opened yourself, until it ends.</summary>
    public Task ServeAsync(IWampTransport transport, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _core.ServeAsync(transport, cancellationToken);
    }

    /// <summary>
    /// Serves a WAMP WebSocket request inside your own ASP.NET Core application (e.g. <c>app.Map("/ws", router.HandleAsync)</c>).
    /// Other requests get a short explanation. The router's <see cref="WampRouterOptions.AllowedOrigins"/> and
    /// keepalive settings apply to the connections it accepts.
    /// </summary>
    /// <remarks>
    /// ASP.NET Core parses the request (with Kestrel's limits on its size and time); the router answers the upgrade
    /// (HTTP/1.1, or an HTTP/2 extended CONNECT) itself and frames the WebSocket on the raw stream, so every frame the
    /// session queues while it writes leaves in one write (see docs/architecture.md).
    /// </remarks>
    public async Task HandleAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        var headers = context.Request.Headers;
        bool http2 = connect is { IsExtendedConnect: true } && string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        bool http1 = !http2 && upgrade is { IsUpgradableRequest: true } && HttpMethods.IsGet(context.Request.Method) &&
            headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);
        if (!http1 && !http2)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            await context.Response.WriteAsync($"This is a WAMP router: connect with a WebSocket and the subprotocol '{WebSocketTransport.JsonSubprotocol}'.\n").ConfigureAwait(false);
            return;
        }
        if (headers.SecWebSocketVersion != "13")
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            context.Response.Headers.SecWebSocketVersion = "13";
            await context.Response.WriteAsync("This WAMP router speaks WebSocket version 13 (RFC 6455).\n").ConfigureAwait(false);
            return;
        }
        string key = headers.SecWebSocketKey.ToString();
        if (http1 && !IsWebSocketKey(key))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("Sec-WebSocket-Key must be 16 bytes in base64.\n").ConfigureAwait(false);
            return;
        }
        if (_origins.Refusal(headers.Origin) is { } refusal)
        {
            // Refused before the upgrade: a page of another origin gets no WebSocket, and no session is created.
            _core.Log.ConnectionRefused(refusal);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("This WAMP router does not accept WebSocket connections from this origin.\n").ConfigureAwait(false);
            return;
        }
        // The first of the client's subprotocols (its order of preference) that the router speaks.
        WampContracts.Serialization.WampSerializer? serializer = null;
        foreach (var value in headers.SecWebSocketProtocol)
        {
            foreach (var requested in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (WampContracts.Serialization.WampSerializer.FromSubprotocol(requested) is { } s && RawSocketListener.Accepts(_core.Options, s))
                {
                    serializer = s;
                    break;
                }
            }
            if (serializer is not null) break;
        }
        if (serializer is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            var accepted = _core.Options.Serializers is { Count: > 0 } list ? list : WampContracts.Serialization.WampSerializer.All;
            await context.Response.WriteAsync($"Unsupported WebSocket subprotocol: this router speaks {string.Join(", ", accepted.Select(a => $"'{a.Subprotocol}'"))}.\n").ConfigureAwait(false);
            return;
        }
        if (_core.AtConnectionLimit)
        {
            // Refused before the upgrade, so a flood of connections costs no WebSocket state.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"This WAMP router serves at most {_core.Options.MaxConnections} connections; try again later.\n").ConfigureAwait(false);
            return;
        }
        context.Response.Headers.SecWebSocketProtocol = serializer.Subprotocol;
        Stream stream;
        if (http1)
        {
            context.Response.Headers.Connection = "Upgrade";
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketAccept = WebSocketHandshake.AcceptKey(key);
            stream = await upgrade!.UpgradeAsync().ConfigureAwait(false);
        }
        else
        {
            stream = await connect!.AcceptAsync().ConfigureAwait(false);
        }
        // The router's own keepalive, whatever its host says: a peer that answers no ping is dropped.
        var transport = new WebSocketConnection(new StreamChannel(stream, context.Abort), client: false, serializer, _core.Options.MaxMessageSize,
            _core.Options.KeepAliveInterval, _core.Options.KeepAliveTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        await _core.ServeAsync(transport, linked.Token).ConfigureAwait(false);
    }

    private static bool IsWebSocketKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out int length) && length == 16;
    }

    /// <summary>Says GOODBYE to every session (<c>wamp.close.system_shutdown</c>) and stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using (var timeout = new CancellationTokenSource(_core.Options.HandshakeTimeout * 2))
        {
            await _core.ShutdownAsync().WaitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stopping.Cancel();
        if (_rawSocket is not null) await _rawSocket.DisposeAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(_core.Options.HandshakeTimeout);
            await _app.StopAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        await _core.StopBackplaneAsync().ConfigureAwait(false);
        _certificate?.Dispose();
    }
}
