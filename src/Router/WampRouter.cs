using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using WampContracts.Router.Core;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>
/// An embedded WAMP v2 router: dealer and broker for any number of realms, over WebSockets (its own listener, or an
/// endpoint of an ASP.NET Core application; subprotocols <c>wamp.2.json</c>, <c>wamp.2.msgpack</c>, <c>wamp.2.cbor</c>),
/// RawSocket or in memory.
/// </summary>
public sealed class WampRouter : IAsyncDisposable
{
    private readonly RouterCore _core;
    private readonly OriginPolicy _origins;
    private readonly RouterCertificate? _certificate;
    private WebSocketListener? _webSocket;
    private RawSocketListener? _rawSocket;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private WampRouter(RouterCore core, OriginPolicy origins, RouterCertificate? certificate = null)
    {
        _core = core;
        _origins = origins;
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
        try
        {
            var core = new RouterCore(options);
            core.StartBackplane();
            router = new WampRouter(core, origins, certificate);
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
            string host = options.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{options.Address}]" : options.Address.ToString();
            router._webSocket = WebSocketListener.Start(router._core, options.Address, options.Port, certificate, origins);
            router.Url = new Uri($"{(certificate is null ? "ws" : "wss")}://{host}:{router._webSocket.Port}/");
            if (options.RawSocketPort is { } rawSocketPort)
            {
                router._rawSocket = RawSocketListener.Start(router._core, options.Address, rawSocketPort);
                router.RawSocketUrl = new Uri($"tcp://{host}:{router._rawSocket.Port}");
            }
        }
        catch
        {
            await router.DisposeAsync().ConfigureAwait(false);
            throw;
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
        return new(core, origins);
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
        var serializer = WampContracts.Serialization.WampSerializer.Json;
        string? key = http1 ? headers.SecWebSocketKey.ToString() : null;
        var refusal = http1 || http2
            ? WebSocketUpgrade.Check(_core, _origins, headers.SecWebSocketVersion, key, headers.Origin,
                headers.SecWebSocketProtocol, out serializer)
            : WebSocketUpgrade.NotAnUpgrade;
        if (refusal is { } refused)
        {
            context.Response.StatusCode = refused.Status;
            if (refused.NamesVersion) context.Response.Headers.SecWebSocketVersion = "13";
            await context.Response.WriteAsync(refused.Text + "\n").ConfigureAwait(false);
            return;
        }
        context.Response.Headers.SecWebSocketProtocol = serializer.Subprotocol;
        Stream stream;
        if (http1)
        {
            context.Response.Headers.Connection = "Upgrade";
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketAccept = WebSocketHandshake.AcceptKey(key!);
            stream = await upgrade!.UpgradeAsync().ConfigureAwait(false);
        }
        else
        {
            stream = await connect!.AcceptAsync().ConfigureAwait(false);
        }
        // The router's own keepalive, whatever its host says: a peer that answers no ping is dropped. The session ends
        // with the connection (its reads end) or with the router (its shutdown).
        var transport = new WebSocketConnection(new StreamChannel(stream, context.Abort), client: false, serializer, _core.Options.MaxMessageSize,
            _core.Options.KeepAliveInterval, _core.Options.KeepAliveTimeout);
        await _core.ServeAsync(transport, _stopping.Token).ConfigureAwait(false);
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
        if (_webSocket is not null) await _webSocket.DisposeAsync().ConfigureAwait(false);
        if (_rawSocket is not null) await _rawSocket.DisposeAsync().ConfigureAwait(false);
        await _core.StopBackplaneAsync().ConfigureAwait(false);
        _certificate?.Dispose();
    }
}
