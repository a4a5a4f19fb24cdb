using System.Net;

namespace WampContracts.Router;

/// <summary>Settings of a <see cref="WampRouter"/>.</summary>
public sealed class WampRouterOptions
{
    /// <summary>The address to listen on. Default 127.0.0.1.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The TCP port; 0 picks a free one (read it from <see cref="WampRouter.Url"/>).</summary>
    public int Port { get; init; }

    /// <summary>
    /// The TCP port of a second listener speaking RawSocket (<c>tcp://</c>, plain TCP with length-prefixed frames), on
    /// <see cref="Address"/>; 0 picks a free one (read it from <see cref="WampRouter.RawSocketUrl"/>). Default null: no
    /// RawSocket listener. For <see cref="WampRouter.StartAsync"/>. RawSocket is unencrypted: serve it on loopback or a
    /// private network.
    /// </summary>
    public int? RawSocketPort { get; init; }

    /// <summary>
    /// The serializers the router accepts, over WebSocket (as subprotocols) and RawSocket. Default null: all of them
    /// (<see cref="WampContracts.Serialization.WampSerializer.All"/>). Sessions with different serializers talk to each
    /// other: the router works on JSON and each connection transcodes at its edge (docs/wire-format.md).
    /// </summary>
    public IReadOnlyList<WampContracts.Serialization.WampSerializer>? Serializers { get; init; }

    /// <summary>
    /// The certificate (with its private key) to serve <c>wss://</c> with; <see cref="WampRouter.Url"/> is then
    /// <c>wss://…</c>. The application keeps ownership of it. Set this or <see cref="TlsCertificateFile"/>, not both.
    /// Default null: plain <c>ws://</c>. For <see cref="WampRouter.StartAsync"/>; a router mounted with
    /// <see cref="WampRouter.HandleAsync"/> uses its host's TLS.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; init; }

    /// <summary>
    /// A PEM file holding the certificate to serve <c>wss://</c> with, optionally followed by its intermediate
    /// certificates (sent along in the handshake). Loaded when the router starts; a missing or unreadable file fails
    /// <see cref="WampRouter.StartAsync"/> with an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>The PEM file of <see cref="TlsCertificateFile"/>'s private key (unencrypted PKCS#8, PKCS#1 or SEC1); null: the key is in the certificate file.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>
    /// The browser origins allowed to open a WebSocket to the router, exactly as browsers send them
    /// (<c>https://app.example.com</c>, <c>http://localhost:5173</c>; case-insensitive, no path or trailing slash).
    /// An upgrade from any other origin is refused with HTTP 403 before the WebSocket is accepted; that includes
    /// <c>null</c> (sandboxed frames, <c>file:</c> pages, redirects) and <c>file://</c> unless listed. Default null:
    /// any origin, for development only; a router that browsers can reach in production must set it (see docs/security.md).
    /// </summary>
    public IReadOnlyList<string>? AllowedOrigins { get; init; }

    /// <summary>
    /// Accept upgrades that carry no <c>Origin</c> header. Browsers always send one, so these come from other clients
    /// (services, Autobahn|Python, WampContracts sessions), which an Origin check cannot restrict anyway. Default true.
    /// </summary>
    public bool AllowMissingOrigin { get; init; } = true;

    /// <summary>
    /// How long a connection may go without receiving anything before the router sends it a WebSocket ping. Zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns the keepalive off. Default 20 s.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the router waits for the pong before it drops the connection as dead and its session leaves. Zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/>: the keepalive only sends unsolicited pongs (which keep idle connections
    /// open through proxies) and awaits nothing, so a peer that vanished without closing its TCP connection is kept
    /// until TCP gives up. Default 20 s. A dead peer is dropped after interval plus timeout, plus
    /// at most two ticks of the keepalive timer (a quarter of the shorter of the two, at least 1 s): 40 to 50 s by default.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Open realms this router serves by name: anyone may join them anonymously and do anything (for development
    /// and trusted networks). With <see cref="Realms"/> or <see cref="RealmSettings"/> set, sessions asking for any
    /// other realm are refused with <c>wamp.error.no_such_realm</c>; with neither (the default, for development),
    /// any realm is created, open, on first use.
    /// </summary>
    public IReadOnlyList<string>? Realms { get; init; }

    /// <summary>Realms served with their own authentication and authorization settings.</summary>
    public IReadOnlyList<WampRealmOptions>? RealmSettings { get; init; }

    /// <summary>Largest message a client may send; larger requests are answered <c>wamp.error.payload_size_exceeded</c>. Default 4 MiB.</summary>
    public int MaxMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most invocations one callee may have in flight; further calls to it get <c>wamp.error.no_available_callee</c>. Default 10,000.</summary>
    public int MaxPendingInvocationsPerCallee { get; init; } = 10_000;

    /// <summary>
    /// Most registrations one session may hold (each counted once, whatever its match policy); a REGISTER past it gets
    /// <c>wamp.error.limit_exceeded</c>. Default 10,000: far above what a service registers, while it bounds how many
    /// entries one session adds to the realm's index (<see cref="MaxMessageSize"/> bounds each URI). Raise it for a
    /// session that registers per item (the pattern benchmark sets 100,000).
    /// </summary>
    public int MaxRegistrationsPerSession { get; init; } = 10_000;

    /// <summary>
    /// Most subscriptions one session may hold (each counted once, whatever its match policy; subscribing again to
    /// one it holds is not a new one); a SUBSCRIBE past it gets <c>wamp.error.limit_exceeded</c>. Default 10,000, for the
    /// same reason as <see cref="MaxRegistrationsPerSession"/>; raise it for a session that subscribes per item.
    /// </summary>
    public int MaxSubscriptionsPerSession { get; init; } = 10_000;

    /// <summary>
    /// Most messages queued for one session that it has not read yet. A session that falls that far behind (a client
    /// that stopped reading) is cut off, so it cannot make the router hold unbounded memory. Default 100,000.
    /// </summary>
    public int MaxQueuedMessagesPerSession { get; init; } = 100_000;

    /// <summary>
    /// Most bytes queued for one session that it has not read yet (beyond what the operating system buffers); a
    /// session past it is cut off. One message larger than this still goes to a session with nothing else waiting.
    /// Default 8 MiB.
    /// </summary>
    public long MaxQueuedBytesPerSession { get; init; } = 8 * 1024 * 1024;

    /// <summary>Most connections served at once; further ones are refused (HTTP 503, or ABORT on other transports). Default 10,000.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// Without <see cref="Realms"/>, the most realms created on first use that may exist at once; a realm goes away
    /// with its last session. HELLO for one more new realm is refused with <c>wamp.error.no_such_realm</c>. Default 1,000.
    /// </summary>
    public int MaxRealms { get; init; } = 1_000;

    /// <summary>
    /// Bound on a new connection's HELLO, on authentication (from HELLO to WELCOME, the authenticators' callbacks
    /// included) and on the GOODBYE handshake. Default 10 s.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>agent</c> announced in WELCOME.</summary>
    public string Agent { get; init; } = "WampContracts.Router/" + typeof(WampRouterOptions).Assembly.GetName().Version?.ToString(3);

    /// <summary>The clock for call timeouts and the handshake bound. Tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where the router logs (category <c>WampContracts.Router</c>): sessions refused, cut off or closed for a
    /// protocol violation, and unexpected failures. Default: nothing is logged.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    /// <summary>
    /// What joins this router to other router nodes serving the same realms as one router (see docs/scale-out.md);
    /// null (the default): a single node. The Redis one comes from the WampContracts.Router.Redis package
    /// (<c>options.UseRedisBackplane("localhost:6379")</c>). The router starts it and disposes of it when it stops.
    /// </summary>
    public Backplane.IWampBackplane? Backplane { get; set; }
}
