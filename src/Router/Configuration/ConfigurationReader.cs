using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using WampContracts.Protocol;
using WampContracts.Router.Core;

namespace WampContracts.Router.Configuration;

/// <summary>
/// Reads a Crossbar.io-shaped config.json into realms and a transport, checking every setting on the way: each
/// problem is reported with the JSON path of the setting, and a setting is either applied or refused, never ignored
/// (Crossbar.io's <c>cache</c> flag, which only tunes Crossbar.io's own caching, and the informational <c>url</c> and
/// <c>id</c> are the exceptions).
/// </summary>
internal sealed partial class ConfigurationReader(string file, string baseDirectory)
{
    // Settings Crossbar.io knows where this router reads an object, but this router does not support: refused as such.
    private string? _redisEndpoint;

    private static readonly string[] CrossbarWorker = ["options", "manhole", "components", "connections"];
    private static readonly string[] CrossbarRealm = ["options", "store"];
    private static readonly string[] CrossbarPermission = ["validate"];
    private static readonly string[] CrossbarTransport = ["debug", "cookie"];
    private static readonly string[] CrossbarEndpoint = ["shared", "portrange", "backlog", "user_timeout"];
    private static readonly string[] CrossbarTls = ["chain_certificates", "dhparam", "ciphers", "ca_certificates"];
    private static readonly string[] CrossbarAuth = ["tls", "cookie", "scram", "cryptosign-proxy", "anonymous-proxy"];
    private static readonly string[] CrossbarWebSocketOptions =
    [
        "external_port", "enable_hybi10", "enable_rfc6455", "open_handshake_timeout", "close_handshake_timeout",
        "enable_webstatus", "validate_utf8", "mask_server_frames", "require_masked_client_frames", "apply_mask",
        "max_frame_size", "auto_fragment_size", "fail_by_drop", "echo_close_codereason", "tcp_nodelay",
        "auto_ping_interval", "auto_ping_timeout", "auto_ping_size", "auto_ping_restart_on_any_traffic",
        "enable_flash_policy", "flash_policy", "compression", "require_websocket_subprotocol", "show_server_version",
    ];

    private WampConfigurationException Error(string path, string problem) => new(file, path, problem);

    public WampRouterConfiguration Read(string json)
    {
        ConfigDto? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ConfigurationJsonContext.Default.ConfigDto);
        }
        catch (JsonException e)
        {
            throw Error(e.Path ?? "$", Describe(e));
        }
        if (config is null) throw Error("$", "the configuration must be a JSON object");
        RefuseOthers("$", config, [], "at the top level");
        if (config.Version is not 2)
            throw Error("$.version", config.Version is null
                ? "missing: a Crossbar.io configuration says \"version\": 2"
                : $"version {config.Version} is not supported (Crossbar.io's current format is version 2)");
        if (config.Controller is { } controller && (controller.ValueKind != JsonValueKind.Object || controller.EnumerateObject().Any()))
            throw Error("$.controller", "controller settings are not supported by this router (an empty object is accepted)");
        if (config.Workers is not { Count: > 0 } workers) throw Error("$.workers", "missing: the file must have one worker of type \"router\"");

        (IReadOnlyList<WampRealmOptions> Realms, WampTransportConfiguration? Transport)? router = null;
        for (int i = 0; i < workers.Count; i++)
        {
            string path = $"$.workers[{i}]";
            var worker = workers[i] ?? throw Error(path, "a worker must be an object");
            if (worker.Type != "router")
                throw Error(path + ".type", worker.Type is null ? "missing: the worker's type must be \"router\"" : $"worker type '{worker.Type}' is not supported: this router is one worker of type \"router\"");
            if (router is not null) throw Error(path, "a second router worker: this router is one worker of type \"router\"");
            router = ReadRouterWorker(path, worker);
        }
        return new WampRouterConfiguration(file, router!.Value.Realms, router.Value.Transport) { RedisEndpoint = _redisEndpoint, RawSocket = _rawSocket };
    }

    private (IReadOnlyList<WampRealmOptions>, WampTransportConfiguration?) ReadRouterWorker(string path, WorkerDto worker)
    {
        RefuseOthers(path, worker, CrossbarWorker, "in a router worker");
        if (worker.Backplane is { } backplane)
        {
            RefuseOthers(path + ".backplane", backplane, [], "in a backplane");
            if (backplane.Type != "redis")
                throw Error(path + ".backplane.type", backplane.Type is null ? "missing: the backplane's type must be \"redis\"" : $"backplane type '{backplane.Type}' is not supported (only \"redis\")");
            if (string.IsNullOrWhiteSpace(backplane.Endpoint))
                throw Error(path + ".backplane.endpoint", "missing: the Redis endpoint, e.g. \"localhost:6379\"");
            _redisEndpoint = backplane.Endpoint;
        }
        var realms = new List<WampRealmOptions>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < (worker.Realms?.Count ?? 0); i++)
        {
            string realmPath = $"{path}.realms[{i}]";
            var realm = ReadRealm(realmPath, worker.Realms![i] ?? throw Error(realmPath, "a realm must be an object"));
            if (!names.Add(realm.Name)) throw Error(realmPath + ".name", $"realm '{realm.Name}' is configured twice");
            realms.Add(realm);
        }
        WampTransportConfiguration? transport = null, rawSocket = null;
        for (int i = 0; i < (worker.Transports?.Count ?? 0); i++)
        {
            string transportPath = $"{path}.transports[{i}]";
            var dto = worker.Transports![i] ?? throw Error(transportPath, "a transport must be an object");
            if (dto.Type == "rawsocket")
            {
                if (rawSocket is not null) throw Error(transportPath, "a second rawsocket transport: this router listens for RawSocket on one");
                rawSocket = ReadRawSocket(transportPath, dto);
            }
            else
            {
                if (transport is not null) throw Error(transportPath, "a second transport: this router listens on one WebSocket (and one rawsocket)");
                transport = ReadTransport(transportPath, dto);
            }
        }
        if (transport is not null && rawSocket is not null) CheckShared(transport, rawSocket);
        _rawSocket = rawSocket;
        return (realms, transport);
    }

    // The RawSocket transport of the worker read last, for the configuration.
    private WampTransportConfiguration? _rawSocket;

    internal WampTransportConfiguration? RawSocket => _rawSocket;

    /// <summary>A <c>rawsocket</c> transport: endpoint (tcp), serializers and <c>options.max_message_size</c>.</summary>
    private WampTransportConfiguration ReadRawSocket(string path, TransportDto dto)
    {
        RefuseOthers(path, dto, CrossbarTransport, "in a transport");
        foreach (var (key, present) in new[] { ("paths", dto.Paths is not null), ("url", dto.Url is not null), ("auth", dto.Auth is not null) })
        {
            if (present)
                throw Error($"{path}.{key}", key == "auth"
                    ? "a rawsocket transport takes its authentication from the realms (put \"auth\" on the WebSocket transport; it applies to RawSocket sessions too)"
                    : $"a rawsocket transport has no '{key}'");
        }
        if (dto.Endpoint is not { } endpointDto) throw Error(path + ".endpoint", "missing: a transport needs an endpoint");
        var endpoint = ReadEndpoint(path + ".endpoint", endpointDto);
        if (endpoint.Tls is not null) throw Error(path + ".endpoint.tls", "RawSocket over TLS is not supported by this router");
        if (dto.Options is { } options)
        {
            if (options.AllowedOrigins is not null || options.AllowNullOrigin is not null || options.Other is { Count: > 0 })
                throw Error(path + ".options", "a rawsocket transport's only option here is max_message_size");
            if (options.MaxMessageSize is <= 0) throw Error(path + ".options.max_message_size", "must be a positive number of bytes");
        }
        return new WampTransportConfiguration
        {
            Type = "rawsocket",
            Endpoint = endpoint,
            MaxMessageSize = dto.Options?.MaxMessageSize,
            Serializers = ReadSerializers(path, dto.Serializers),
            EndpointJsonPath = path + ".endpoint",
            OptionsJsonPath = path + ".options",
        };
    }

    private IReadOnlyList<string>? ReadSerializers(string path, List<string?>? serializers)
    {
        if (serializers is null) return null;
        for (int i = 0; i < serializers.Count; i++)
        {
            if (serializers[i] is not ("json" or "msgpack" or "cbor"))
                throw Error($"{path}.serializers[{i}]", $"serializer '{serializers[i]}' is not supported: this router speaks json, msgpack and cbor");
        }
        return [.. serializers.Select(s => s!)];
    }

    /// <summary>The router has one address, one message size limit and one list of serializers for both listeners.</summary>
    private void CheckShared(WampTransportConfiguration webSocket, WampTransportConfiguration rawSocket)
    {
        if (!webSocket.Endpoint.Address.Equals(rawSocket.Endpoint.Address))
            throw Error(rawSocket.EndpointJsonPath + ".interface", $"the rawsocket transport must listen on the WebSocket's interface ({webSocket.Endpoint.Address}): this router has one address");
        if (webSocket.MaxMessageSize is { } a && rawSocket.MaxMessageSize is { } b && a != b)
            throw Error(rawSocket.OptionsJsonPath + ".max_message_size", $"must equal the WebSocket's ({a}): this router has one message size limit");
        if (webSocket.Serializers is { } x && rawSocket.Serializers is { } y && !x.ToHashSet().SetEquals(y))
            throw Error(rawSocket.EndpointJsonPath[..^".endpoint".Length] + ".serializers", "must name the WebSocket's serializers: this router accepts the same ones on both");
    }

    private WampRealmOptions ReadRealm(string path, RealmDto dto)
    {
        RefuseOthers(path, dto, CrossbarRealm, "in a realm");
        if (dto.Name is not { } name || !WampUris.IsValidLoose(name))
            throw Error(path + ".name", dto.Name is null ? "missing: a realm needs a name" : $"'{dto.Name}' is not a valid realm name (a WAMP URI)");
        var roles = new List<WampRole>();
        var roleNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < (dto.Roles?.Count ?? 0); i++)
        {
            string rolePath = $"{path}.roles[{i}]";
            var role = ReadRole(rolePath, dto.Roles![i] ?? throw Error(rolePath, "a role must be an object"));
            if (!roleNames.Add(role.Name)) throw Error(rolePath + ".name", $"role '{role.Name}' is listed twice in realm '{name}'");
            roles.Add(role);
        }
        var realm = new WampRealmOptions { Name = name, Roles = roles };
        try
        {
            RealmAuthorization.Compile(realm); // the router's own checks, so nothing passes here that fails at startup
        }
        catch (ArgumentException e)
        {
            throw Error(path, e.Message);
        }
        return realm;
    }

    private WampRole ReadRole(string path, RoleDto dto)
    {
        if (dto.Other?.ContainsKey("authorizer") == true)
            throw Error(path + ".authorizer", "a dynamic authorizer is a WAMP procedure on Crossbar.io; this router takes it as code (WampRole.Authorizer), not from the file");
        RefuseOthers(path, dto, [], "in a role");
        if (string.IsNullOrEmpty(dto.Name)) throw Error(path + ".name", "missing: a role needs a name");
        if (dto.Name == "trusted") throw Error(path + ".name", "the role name 'trusted' is reserved by Crossbar.io for its own sessions");
        var permissions = new List<WampPermission>();
        var seen = new HashSet<(string, WampMatch)>();
        for (int i = 0; i < (dto.Permissions?.Count ?? 0); i++)
        {
            string permissionPath = $"{path}.permissions[{i}]";
            var permission = ReadPermission(permissionPath, dto.Permissions![i] ?? throw Error(permissionPath, "a permission must be an object"));
            if (!seen.Add((permission.Uri, permission.Match)))
                throw Error(permissionPath, $"role '{dto.Name}' has a permission for '{permission.Uri}' (match {Lower(permission.Match)}) already");
            permissions.Add(permission);
        }
        return new WampRole { Name = dto.Name, Permissions = permissions };
    }

    private WampPermission ReadPermission(string path, PermissionDto dto)
    {
        RefuseOthers(path, dto, CrossbarPermission, "in a permission");
        if (dto.Uri is not { } uri) throw Error(path + ".uri", "missing: a permission needs a uri (\"\" with match prefix for every URI)");
        WampMatch match;
        if (dto.Match is null)
        {
            // Crossbar.io's starred URIs: "com.example.*" is a prefix, other stars mark wildcard components.
            int stars = uri.Count(c => c == '*');
            (uri, match) = stars == 0 ? (uri, WampMatch.Exact)
                : stars == 1 && uri.EndsWith('*') ? (uri[..^1], WampMatch.Prefix)
                : (uri.Replace("*", "", StringComparison.Ordinal), WampMatch.Wildcard);
        }
        else
        {
            match = dto.Match switch
            {
                "exact" => WampMatch.Exact,
                "prefix" => WampMatch.Prefix,
                "wildcard" => WampMatch.Wildcard,
                _ => throw Error(path + ".match", $"'{dto.Match}' is not a match policy (exact, prefix or wildcard)"),
            };
        }
        if (RealmAuthorization.InvalidPermissionUri(uri, match) is { } problem) throw Error(path + ".uri", problem);
        var allow = dto.Allow;
        var disclose = dto.Disclose;
        if (allow is not null) RefuseOthers(path + ".allow", allow, [], "in allow (call, register, publish, subscribe)");
        if (disclose is not null) RefuseOthers(path + ".disclose", disclose, [], "in disclose (caller, publisher)");
        return new WampPermission(uri, match)
        {
            Call = allow?.Call ?? false,
            Register = allow?.Register ?? false,
            Publish = allow?.Publish ?? false,
            Subscribe = allow?.Subscribe ?? false,
            DiscloseCaller = disclose?.Caller ?? false,
            DisclosePublisher = disclose?.Publisher ?? false,
        };
    }

    private WampTransportConfiguration ReadTransport(string path, TransportDto dto)
    {
        RefuseOthers(path, dto, CrossbarTransport, "in a transport");
        if (dto.Endpoint is not { } endpointDto) throw Error(path + ".endpoint", "missing: a transport needs an endpoint");
        var endpoint = ReadEndpoint(path + ".endpoint", endpointDto);
        switch (dto.Type)
        {
            case "websocket":
                if (dto.Paths is not null) throw Error(path + ".paths", "a websocket transport has no paths (a web transport has)");
                return ReadWebSocket(path, "/", endpoint, dto.Serializers, dto.Options, dto.Auth, "websocket");
            case "web":
                foreach (var (key, present) in new[] { ("url", dto.Url is not null), ("serializers", dto.Serializers is not null), ("options", dto.Options is not null), ("auth", dto.Auth is not null) })
                {
                    if (present)
                        throw Error($"{path}.{key}", key == "options"
                            ? "web transport options are not supported by this router"
                            : $"a web transport has no '{key}': it belongs to its WebSocket path service");
                }
                if (dto.Paths is not { Count: > 0 } paths) throw Error(path + ".paths", "missing: a web transport needs paths, one of them of type \"websocket\"");
                if (paths.Count > 1)
                    throw Error(path + ".paths", $"this router serves one WebSocket and nothing else; the paths {string.Join(", ", paths.Keys.Select(k => $"'{k}'"))} are more");
                var (key0, service) = paths.First();
                string servicePath = path + ".paths" + Member(key0);
                if (service is null) throw Error(servicePath, "a path service must be an object");
                if (service.Type != "websocket")
                    throw Error(servicePath + ".type", service.Type is null ? "missing: the path service's type must be \"websocket\"" : $"path service type '{service.Type}' is not supported: this router serves a WebSocket only");
                RefuseOthers(servicePath, service, CrossbarTransport, "in a WebSocket path service");
                return ReadWebSocket(servicePath, "/" + key0.TrimStart('/'), endpoint, service.Serializers, service.Options, service.Auth, "web") with { EndpointJsonPath = path + ".endpoint" };
            case null:
                throw Error(path + ".type", "missing: the transport's type must be \"websocket\" or \"web\"");
            default:
                throw Error(path + ".type", $"transport type '{dto.Type}' is not supported: this router serves \"websocket\" or \"web\" (with one WebSocket path), and \"rawsocket\"");
        }
    }

    private WampTransportConfiguration ReadWebSocket(string path, string webSocketPath, WampEndpointConfiguration endpoint,
        List<string?>? serializers, WebSocketOptionsDto? options, AuthDto? auth, string type)
    {
        var serializerNames = ReadSerializers(path, serializers);
        if (options is not null)
        {
            RefuseOthers(path + ".options", options, CrossbarWebSocketOptions, "in WebSocket options");
            if (options.MaxMessageSize is <= 0) throw Error(path + ".options.max_message_size", "must be a positive number of bytes");
            for (int i = 0; i < (options.AllowedOrigins?.Count ?? 0); i++)
                if (string.IsNullOrEmpty(options.AllowedOrigins![i])) throw Error($"{path}.options.allowed_origins[{i}]", "an origin must be a non-empty string");
        }
        return new WampTransportConfiguration
        {
            Type = type,
            Endpoint = endpoint,
            Path = webSocketPath,
            MaxMessageSize = options?.MaxMessageSize,
            AllowedOrigins = options?.AllowedOrigins?.Select(o => o!).ToArray(),
            AllowNullOrigin = options?.AllowNullOrigin,
            Auth = auth is null ? null : ReadAuth(path + ".auth", auth),
            Serializers = serializerNames,
            EndpointJsonPath = path + ".endpoint",
            OptionsJsonPath = path + ".options",
            AuthJsonPath = path + ".auth",
        };
    }

    private WampEndpointConfiguration ReadEndpoint(string path, EndpointDto dto)
    {
        RefuseOthers(path, dto, CrossbarEndpoint, "in an endpoint");
        if (dto.Type != "tcp")
            throw Error(path + ".type", dto.Type is null ? "missing: the endpoint's type must be \"tcp\"" : $"endpoint type '{dto.Type}' is not supported: this router listens on \"tcp\"");
        if (dto.Port is not { } port) throw Error(path + ".port", "missing: a tcp endpoint needs a port");
        if (port is < 1 or > 65535) throw Error(path + ".port", $"{port} is not a TCP port (1 to 65535)");
        int version = dto.Version ?? 4;
        if (version is not (4 or 6)) throw Error(path + ".version", $"IP version {version}: must be 4 or 6");
        IPAddress address;
        if (dto.Interface is null)
        {
            address = version == 6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
        else if (!IPAddress.TryParse(dto.Interface, out address!))
        {
            throw Error(path + ".interface", $"'{dto.Interface}' is not an IP address");
        }
        else if ((address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) != (version == 6))
        {
            throw Error(path + ".interface", $"'{dto.Interface}' is not an IPv{version} address (the endpoint's version is {version})");
        }
        WampTlsConfiguration? tls = null;
        if (dto.Tls is { } tlsDto)
        {
            RefuseOthers(path + ".tls", tlsDto, CrossbarTls, "in TLS settings");
            if (string.IsNullOrEmpty(tlsDto.Key)) throw Error(path + ".tls.key", "missing: the private key's file");
            if (string.IsNullOrEmpty(tlsDto.Certificate)) throw Error(path + ".tls.certificate", "missing: the certificate's file");
            tls = new WampTlsConfiguration(Path.GetFullPath(tlsDto.Key, baseDirectory), Path.GetFullPath(tlsDto.Certificate, baseDirectory));
        }
        return new WampEndpointConfiguration { Port = port, Address = address, Version = version, Tls = tls };
    }

    private WampAuthConfiguration ReadAuth(string path, AuthDto dto)
    {
        RefuseOthers(path, dto, CrossbarAuth, "in auth (anonymous, ticket, wampcra, cryptosign)");
        return new WampAuthConfiguration
        {
            Anonymous = dto.Anonymous is { } anonymous ? ReadAnonymous(path + ".anonymous", anonymous) : null,
            Ticket = dto.Ticket is { } ticket ? ReadTicket(path + ".ticket", ticket) : null,
            WampCra = dto.Wampcra is { } cra ? ReadWampCra(path + ".wampcra", cra) : null,
            Cryptosign = dto.Cryptosign is { } cryptosign ? ReadCryptosign(path + ".cryptosign", cryptosign) : null,
        };
    }

    private void RequireStatic(string path, string? type, string method)
    {
        if (type == "static") return;
        throw Error(path + ".type", type is null
            ? $"missing: {method} authentication needs \"type\": \"static\""
            : $"{method} authentication of type '{type}' is not supported: Crossbar.io's dynamic authenticators are WAMP procedures; this router reads \"static\" principals");
    }

    private WampAnonymousAuthConfiguration ReadAnonymous(string path, AnonymousDto dto)
    {
        RequireStatic(path, dto.Type, "anonymous");
        RefuseOthers(path, dto, [], "in anonymous authentication (type, role, authid, realm)");
        return new WampAnonymousAuthConfiguration(dto.Role, dto.Authid, dto.Realm);
    }

    private WampTicketAuthConfiguration ReadTicket(string path, TicketDto dto)
    {
        RequireStatic(path, dto.Type, "ticket");
        RefuseOthers(path, dto, [], "in ticket authentication (type, principals)");
        if (dto.Principals is null) throw Error(path + ".principals", "missing: static ticket authentication needs principals (by authid)");
        var principals = new Dictionary<string, WampTicketPrincipalConfiguration>(StringComparer.Ordinal);
        foreach (var (authid, principal) in dto.Principals)
        {
            string principalPath = path + ".principals" + Member(authid);
            if (principal is null) throw Error(principalPath, "a principal must be an object");
            RefuseOthers(principalPath, principal, [], "in a ticket principal (ticket, role)");
            if (string.IsNullOrEmpty(principal.Ticket)) throw Error(principalPath + ".ticket", "missing: the principal's ticket");
            principals.Add(authid, new WampTicketPrincipalConfiguration(principal.Ticket, principal.Role));
        }
        return new WampTicketAuthConfiguration(principals);
    }

    private WampCraAuthConfiguration ReadWampCra(string path, WampCraDto dto)
    {
        RequireStatic(path, dto.Type, "WAMP-CRA");
        RefuseOthers(path, dto, [], "in WAMP-CRA authentication (type, users)");
        if (dto.Users is null) throw Error(path + ".users", "missing: static WAMP-CRA authentication needs users (by authid)");
        var users = new Dictionary<string, WampCraUserConfiguration>(StringComparer.Ordinal);
        foreach (var (authid, user) in dto.Users)
        {
            string userPath = path + ".users" + Member(authid);
            if (user is null) throw Error(userPath, "a user must be an object");
            RefuseOthers(userPath, user, [], "in a WAMP-CRA user (secret, role, salt, iterations, keylen)");
            if (string.IsNullOrEmpty(user.Secret)) throw Error(userPath + ".secret", "missing: the user's secret");
            if (user.Iterations is <= 0) throw Error(userPath + ".iterations", "must be positive");
            if (user.Keylen is <= 0) throw Error(userPath + ".keylen", "must be positive");
            if (user.Salt is null && (user.Iterations is not null || user.Keylen is not null))
                throw Error(userPath + ".salt", "missing: iterations and keylen derive a key from the secret with a salt");
            users.Add(authid, new WampCraUserConfiguration(user.Secret, user.Role, user.Salt, user.Iterations, user.Keylen));
        }
        return new WampCraAuthConfiguration(users);
    }

    private WampCryptosignAuthConfiguration ReadCryptosign(string path, CryptosignDto dto)
    {
        RequireStatic(path, dto.Type, "cryptosign");
        RefuseOthers(path, dto, ["trustroots"], "in cryptosign authentication (type, principals)");
        if (dto.Principals is null) throw Error(path + ".principals", "missing: static cryptosign authentication needs principals (by authid)");
        var principals = new Dictionary<string, WampCryptosignPrincipalConfiguration>(StringComparer.Ordinal);
        foreach (var (authid, principal) in dto.Principals)
        {
            string principalPath = path + ".principals" + Member(authid);
            if (principal is null) throw Error(principalPath, "a principal must be an object");
            RefuseOthers(principalPath, principal, [], "in a cryptosign principal (authorized_keys, role, realm)");
            if (principal.AuthorizedKeys is not { Count: > 0 } keys) throw Error(principalPath + ".authorized_keys", "missing: at least one public key");
            for (int i = 0; i < keys.Count; i++)
            {
                if (keys[i] is not { } key || !PublicKey().IsMatch(key))
                    throw Error($"{principalPath}.authorized_keys[{i}]", "an Ed25519 public key is 64 hexadecimal digits");
            }
            principals.Add(authid, new WampCryptosignPrincipalConfiguration([.. keys.Select(k => k!.ToLowerInvariant())], principal.Role, principal.Realm));
        }
        return new WampCryptosignAuthConfiguration(principals);
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex PublicKey();

    /// <summary>Refuses the keys an object did not bind: "not supported" for those Crossbar.io knows, "unknown" for the rest.</summary>
    private void RefuseOthers(string path, JsonObjectDto dto, string[] crossbarKnows, string where)
    {
        if (dto.Other is not { Count: > 0 } others) return;
        foreach (var key in others.Keys)
        {
            throw Error(path + Member(key), crossbarKnows.Contains(key, StringComparer.Ordinal)
                ? $"'{key}' is a Crossbar.io setting this router does not support"
                : $"unknown setting '{key}' {where}");
        }
    }

    /// <summary>A member of a JSON path: <c>.name</c>, or <c>['…']</c> for a key that is not a plain name.</summary>
    private static string Member(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? "." + key : $"['{key.Replace("'", "\\'", StringComparison.Ordinal)}']";

    private static string Lower(WampMatch match) => match.ToString().ToLowerInvariant();

    /// <summary>System.Text.Json's error as a sentence about the setting, with the line and column it was found at.</summary>
    private static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var converted = ConvertedTo().Match(message);
        if (converted.Success)
        {
            string type = converted.Groups[1].Value;
            message = "expected " + (type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
                : type.Contains("Int32", StringComparison.Ordinal) ? "a whole number"
                : type.Contains("String", StringComparison.Ordinal) && !type.Contains("Dictionary", StringComparison.Ordinal) && !type.Contains("List", StringComparison.Ordinal) ? "a string"
                : type.Contains("List", StringComparison.Ordinal) ? "a list"
                : "an object");
        }
        else if (Duplicate().Match(message) is { Success: true } duplicate)
        {
            message = $"the setting '{duplicate.Groups[1].Value}' appears twice";
        }
        else
        {
            // System.Text.Json's advice to change its reader options means nothing to whoever edits the file.
            message = "invalid JSON: " + message.Replace(" which is not supported in this mode. Change the reader options.", ".", StringComparison.Ordinal)
                .Replace(" Change the reader options.", "", StringComparison.Ordinal);
        }
        return e.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $"{message} (line {line + 1}, column {e.BytePositionInLine + 1})")
            : message;
    }

    [GeneratedRegex(@"could not be converted to (\S+)")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"[Dd]uplicate property '([^']*)'")]
    private static partial Regex Duplicate();
}
