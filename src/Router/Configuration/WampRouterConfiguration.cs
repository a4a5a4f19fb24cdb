using System.Net;
using System.Text.Json;

namespace WampContracts.Router.Configuration;

/// <summary>
/// A router configuration read from a Crossbar.io-shaped <c>config.json</c> (<c>workers[].realms[]</c> with roles and
/// permissions, <c>workers[].transports[]</c> with endpoint, paths, auth and TLS), so the same file serves a realm on
/// this router and on Crossbar.io. Anything this router does not support is refused with the JSON path of the setting,
/// never silently ignored. See docs/security.md, "Configuration file".
/// </summary>
public sealed class WampRouterConfiguration
{
    internal WampRouterConfiguration(string file, IReadOnlyList<WampRealmOptions> realms, WampTransportConfiguration? transport)
    {
        File = file;
        Realms = realms;
        Transport = transport;
    }

    /// <summary>Where the configuration was read from (a file path, or the name given to <see cref="Parse"/>).</summary>
    public string File { get; }

    /// <summary>The realms, each with its roles and permissions.</summary>
    public IReadOnlyList<WampRealmOptions> Realms { get; }

    /// <summary>The listening transport; null when the file has none (the router's defaults then apply).</summary>
    public WampTransportConfiguration? Transport { get; }

    /// <summary>
    /// The Redis endpoint of the worker's <c>"backplane": {"type": "redis", "endpoint": "HOST:PORT"}</c> (this router's
    /// own setting, see docs/scale-out.md); null for a single router.
    /// </summary>
    public string? RedisEndpoint { get; init; }

    /// <summary>The <c>rawsocket</c> transport (a second listener, <see cref="WampRouterOptions.RawSocketPort"/>); null when the file has none.</summary>
    public WampTransportConfiguration? RawSocket { get; init; }

    /// <summary>Reads and checks a configuration file; <see cref="WampConfigurationException"/> names what is wrong and where.</summary>
    public static WampRouterConfiguration Load(string path)
    {
        string json;
        try
        {
            json = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new WampConfigurationException(path, "$", $"cannot read the file: {e.Message}");
        }
        return Parse(json, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Parses and checks a configuration. <paramref name="file"/> names it in errors; relative file paths in it (TLS key
    /// and certificate) are taken from <paramref name="baseDirectory"/> (default: the current directory).
    /// </summary>
    public static WampRouterConfiguration Parse(string json, string file = "config.json", string? baseDirectory = null) =>
        new ConfigurationReader(file, baseDirectory ?? Directory.GetCurrentDirectory()).Read(json);

    /// <summary>
    /// Router options serving this configuration: its realms (<see cref="WampRouterOptions.RealmSettings"/>), and its
    /// transport's address, port and message size limit. <paramref name="port"/> overrides the file's port (0: any
    /// free port). <paramref name="rawSocketPort"/>, when given, overrides the file's <c>rawsocket</c> transport's port
    /// or adds a RawSocket listener (the standalone router's <c>--rawsocket-port</c>). Sections the router cannot apply
    /// yet are refused here with <see cref="WampConfigurationException"/>.
    /// </summary>
    public WampRouterOptions ToOptions(int? port = null, int? rawSocketPort = null)
    {
        if (rawSocketPort is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(rawSocketPort), rawSocketPort, "a TCP port is 0 to 65535");
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "a TCP port is 0 to 65535");
        var endpoint = Transport?.Endpoint;
        return new WampRouterOptions
        {
            Address = (endpoint ?? RawSocket?.Endpoint) is { } listen ? listen.Address : IPAddress.Loopback,
            Port = port ?? endpoint?.Port ?? 0,
            RawSocketPort = rawSocketPort ?? RawSocket?.Endpoint.Port,
            Serializers = (Transport?.Serializers ?? RawSocket?.Serializers)?.Select(n => Serialization.WampSerializer.All.Single(s => s.Name == n)).ToArray(),
            MaxMessageSize = Transport?.MaxMessageSize ?? RawSocket?.MaxMessageSize ?? new WampRouterOptions().MaxMessageSize,
            TlsCertificateFile = endpoint?.Tls?.Certificate,
            TlsKeyFile = endpoint?.Tls?.Key,
            AllowedOrigins = AllowedOrigins(),
            RealmSettings = Transport?.Auth is { } auth ? [.. Realms.Select(realm => WithAuthentication(realm, auth))] : Realms,
        };
    }

    /// <summary>
    /// A realm with the transport's <c>auth</c> methods, as Crossbar.io applies them: every realm served on the
    /// transport accepts them, with the principals that name no realm or that realm.
    /// </summary>
    private WampRealmOptions WithAuthentication(WampRealmOptions realm, WampAuthConfiguration auth)
    {
        var methods = new List<WampAuthenticator>();
        if (auth.Anonymous is { AuthId: not null })
            throw new WampConfigurationException(File, Transport!.AuthJsonPath + ".anonymous.authid",
                "a fixed authid for anonymous sessions is a Crossbar.io setting this router does not support (each gets anonymous-<session id>)");
        if (auth.Anonymous is { } anonymous && (anonymous.Realm is null || anonymous.Realm == realm.Name))
            methods.Add(new WampAnonymousAuthenticator { Role = anonymous.Role ?? "anonymous" });
        if (auth.Ticket is { } ticket)
            methods.Add(new WampTicketAuthenticator
            {
                Principals = ticket.Principals.ToDictionary(p => p.Key, p => new WampTicketPrincipal(p.Value.Ticket, RoleOf(p.Key, p.Value.Role, "ticket")), StringComparer.Ordinal),
            });
        if (auth.WampCra is { } cra)
            methods.Add(new WampCraAuthenticator
            {
                // A salted user's secret is the derived key, as Crossbar.io keeps it; the challenge names salt, iterations and key length.
                Principals = cra.Users.ToDictionary(u => u.Key, u => new WampCraPrincipal(u.Value.Secret, RoleOf(u.Key, u.Value.Role, "wampcra"))
                {
                    Salt = u.Value.Salt,
                    Iterations = u.Value.Iterations ?? WampContracts.WampCra.DefaultIterations,
                    KeyLength = u.Value.KeyLength ?? WampContracts.WampCra.DefaultKeyLength,
                }, StringComparer.Ordinal),
            });
        if (auth.Cryptosign is { } cryptosign)
            methods.Add(new WampCryptosignAuthenticator
            {
                Principals = cryptosign.Principals.Where(p => p.Value.Realm is null || p.Value.Realm == realm.Name)
                    .ToDictionary(p => p.Key, p => new WampCryptosignPrincipal(p.Value.AuthorizedKeys, RoleOf(p.Key, p.Value.Role, "cryptosign")), StringComparer.Ordinal),
            });
        if (methods.Count == 0)
            throw new WampConfigurationException(File, Transport!.AuthJsonPath, $"no authentication method of \"auth\" applies to realm '{realm.Name}'");
        return new WampRealmOptions { Name = realm.Name, Roles = realm.Roles, AuthorizerTimeout = realm.AuthorizerTimeout, Authentication = methods };
    }

    private string RoleOf(string authId, string? role, string method) =>
        role ?? throw new WampConfigurationException(File, $"{Transport!.AuthJsonPath}.{method}", $"principal '{authId}' has no role");

    /// <summary>
    /// <c>options.allowed_origins</c> (with <c>allow_null_origin</c> adding <c>null</c>); none: any origin, as Crossbar.io
    /// does. Crossbar.io's <c>*</c> patterns are refused: this router compares whole origins.
    /// </summary>
    private IReadOnlyList<string>? AllowedOrigins()
    {
        if (Transport is not { AllowedOrigins: { } origins } transport) return null;
        if (origins.FirstOrDefault(o => o.Contains('*', StringComparison.Ordinal)) is { } pattern)
            throw new WampConfigurationException(File, transport.OptionsJsonPath + ".allowed_origins",
                $"'{pattern}' is a pattern; this router compares whole origins (scheme, host and port): list each one");
        return transport.AllowNullOrigin == true ? [.. origins, "null"] : origins;
    }
}

/// <summary>A configuration that cannot be read or served: <see cref="JsonPath"/> says where, <see cref="Problem"/> what.</summary>
public sealed class WampConfigurationException(string file, string jsonPath, string problem)
    : Exception($"{file}: {jsonPath}: {problem}")
{
    /// <summary>The file (or name) the configuration came from.</summary>
    public string File { get; } = file;

    /// <summary>The setting at fault, e.g. <c>$.workers[0].realms[0].roles[1].permissions[0].match</c>.</summary>
    public string JsonPath { get; } = jsonPath;

    public string Problem { get; } = problem;
}

/// <summary>
/// The router's listening transport (Crossbar.io's <c>type: websocket</c>, or <c>type: web</c> with one WebSocket path
/// service): its endpoint, the WebSocket's path and options, and its authentication methods.
/// </summary>
public sealed record WampTransportConfiguration
{
    /// <summary><c>websocket</c>, <c>web</c> or <c>rawsocket</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The transport's <c>serializers</c> (<c>json</c>, <c>msgpack</c>, <c>cbor</c>); null: all of them.</summary>
    public IReadOnlyList<string>? Serializers { get; init; }

    public required WampEndpointConfiguration Endpoint { get; init; }

    /// <summary>
    /// The path of the WebSocket (<c>/ws</c> for a web transport's <c>paths: {"ws": …}</c>; <c>/</c> for a websocket
    /// transport). This router answers WAMP on every path, so clients written for the file's path connect as they would
    /// to Crossbar.io.
    /// </summary>
    public string Path { get; init; } = "/";

    /// <summary>The WebSocket's <c>options.max_message_size</c>, in bytes.</summary>
    public int? MaxMessageSize { get; init; }

    /// <summary>The WebSocket's <c>options.allowed_origins</c> (Crossbar.io's patterns, <c>*</c> as wildcard).</summary>
    public IReadOnlyList<string>? AllowedOrigins { get; init; }

    /// <summary>The WebSocket's <c>options.allow_null_origin</c>.</summary>
    public bool? AllowNullOrigin { get; init; }

    /// <summary>The transport's (or WebSocket path service's) <c>auth</c> section.</summary>
    public WampAuthConfiguration? Auth { get; init; }

    internal string EndpointJsonPath { get; init; } = "$";
    internal string OptionsJsonPath { get; init; } = "$";
    internal string AuthJsonPath { get; init; } = "$";
}

/// <summary>A listening TCP endpoint (Crossbar.io's <c>endpoint</c>: <c>port</c>, <c>interface</c>, <c>version</c>, <c>tls</c>).</summary>
public sealed record WampEndpointConfiguration
{
    public required int Port { get; init; }

    /// <summary>The <c>interface</c> to listen on; absent, every interface (as Crossbar.io does): 0.0.0.0, or :: for <see cref="Version"/> 6.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>4 or 6.</summary>
    public int Version { get; init; } = 4;

    public WampTlsConfiguration? Tls { get; init; }
}

/// <summary>Crossbar.io's <c>endpoint.tls</c>: PEM files of the server's private key and certificate, as full paths.</summary>
public sealed record WampTlsConfiguration(string Key, string Certificate);

/// <summary>A transport's <c>auth</c> section: the authentication methods it accepts, each with its principals.</summary>
public sealed record WampAuthConfiguration
{
    public WampAnonymousAuthConfiguration? Anonymous { get; init; }
    public WampTicketAuthConfiguration? Ticket { get; init; }
    public WampCraAuthConfiguration? WampCra { get; init; }
    public WampCryptosignAuthConfiguration? Cryptosign { get; init; }
}

/// <summary><c>auth.anonymous</c> (<c>type: static</c>): the role, and optionally authid and realm, of anonymous sessions.</summary>
public sealed record WampAnonymousAuthConfiguration(string? Role, string? AuthId, string? Realm);

/// <summary><c>auth.ticket</c> (<c>type: static</c>): tickets by authid.</summary>
public sealed record WampTicketAuthConfiguration(IReadOnlyDictionary<string, WampTicketPrincipalConfiguration> Principals);

/// <summary>One ticket principal. Its <see cref="object.ToString"/> leaves the ticket out.</summary>
public sealed record WampTicketPrincipalConfiguration(string Ticket, string? Role)
{
    public override string ToString() => $"WampTicketPrincipalConfiguration {{ Role = {Role} }}";
}

/// <summary><c>auth.wampcra</c> (<c>type: static</c>): secrets by authid.</summary>
public sealed record WampCraAuthConfiguration(IReadOnlyDictionary<string, WampCraUserConfiguration> Users);

/// <summary>
/// One WAMP-CRA user: a secret, or with <see cref="Salt"/> (and <see cref="Iterations"/>, <see cref="KeyLength"/>) a
/// key derived from it by PBKDF2. Its <see cref="object.ToString"/> leaves the secret out.
/// </summary>
public sealed record WampCraUserConfiguration(string Secret, string? Role, string? Salt, int? Iterations, int? KeyLength)
{
    public override string ToString() => $"WampCraUserConfiguration {{ Role = {Role}, Salted = {Salt is not null} }}";
}

/// <summary><c>auth.cryptosign</c> (<c>type: static</c>): authorized Ed25519 public keys by authid.</summary>
public sealed record WampCryptosignAuthConfiguration(IReadOnlyDictionary<string, WampCryptosignPrincipalConfiguration> Principals);

/// <summary>One cryptosign principal: its public keys (64 hexadecimal digits each), role and realm.</summary>
public sealed record WampCryptosignPrincipalConfiguration(IReadOnlyList<string> AuthorizedKeys, string? Role, string? Realm);
