using System.Text.Json;
using System.Text.Json.Serialization;

namespace WampContracts.Router.Configuration;

// The shape of a Crossbar.io config.json, as far as this router reads it: what System.Text.Json's source generator
// binds (no reflection, so trimming and AOT keep working). Every object keeps the keys it does not bind in Other, so
// the validator can refuse them by their JSON path, saying whether Crossbar.io knows them (but this router does not
// support them) or nobody does.

internal abstract class JsonObjectDto
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

internal sealed class ConfigDto : JsonObjectDto
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    public int? Version { get; set; }

    public JsonElement? Controller { get; set; }

    public List<WorkerDto?>? Workers { get; set; }
}

internal sealed class WorkerDto : JsonObjectDto
{
    public string? Type { get; set; }

    public string? Id { get; set; }

    public List<RealmDto?>? Realms { get; set; }

    public List<TransportDto?>? Transports { get; set; }

    public BackplaneDto? Backplane { get; set; }
}

/// <summary>This router's own setting (not Crossbar.io's): the backplane joining router nodes, e.g. <c>{"type": "redis", "endpoint": "localhost:6379"}</c>.</summary>
internal sealed class BackplaneDto : JsonObjectDto
{
    public string? Type { get; set; }

    public string? Endpoint { get; set; }
}

internal sealed class RealmDto : JsonObjectDto
{
    public string? Name { get; set; }

    public List<RoleDto?>? Roles { get; set; }
}

internal sealed class RoleDto : JsonObjectDto
{
    public string? Name { get; set; }

    public List<PermissionDto?>? Permissions { get; set; }
}

internal sealed class PermissionDto : JsonObjectDto
{
    public string? Uri { get; set; }

    public string? Match { get; set; }

    public AllowDto? Allow { get; set; }

    public DiscloseDto? Disclose { get; set; }

    public bool? Cache { get; set; }
}

internal sealed class AllowDto : JsonObjectDto
{
    public bool? Call { get; set; }

    public bool? Register { get; set; }

    public bool? Publish { get; set; }

    public bool? Subscribe { get; set; }
}

internal sealed class DiscloseDto : JsonObjectDto
{
    public bool? Caller { get; set; }

    public bool? Publisher { get; set; }
}

internal sealed class TransportDto : JsonObjectDto
{
    public string? Type { get; set; }

    public string? Id { get; set; }

    public EndpointDto? Endpoint { get; set; }

    // "web" transports: services by path.
    public Dictionary<string, PathServiceDto?>? Paths { get; set; }

    // "websocket" transports: the WebSocket service's settings on the transport itself.
    public string? Url { get; set; }

    public List<string?>? Serializers { get; set; }

    public WebSocketOptionsDto? Options { get; set; }

    public AuthDto? Auth { get; set; }
}

internal sealed class PathServiceDto : JsonObjectDto
{
    public string? Type { get; set; }

    public string? Id { get; set; }

    public string? Url { get; set; }

    public List<string?>? Serializers { get; set; }

    public WebSocketOptionsDto? Options { get; set; }

    public AuthDto? Auth { get; set; }
}

internal sealed class WebSocketOptionsDto : JsonObjectDto
{
    public int? MaxMessageSize { get; set; }

    public List<string?>? AllowedOrigins { get; set; }

    public bool? AllowNullOrigin { get; set; }
}

internal sealed class EndpointDto : JsonObjectDto
{
    public string? Type { get; set; }

    public int? Port { get; set; }

    public string? Interface { get; set; }

    public int? Version { get; set; }

    public TlsDto? Tls { get; set; }
}

internal sealed class TlsDto : JsonObjectDto
{
    public string? Key { get; set; }

    public string? Certificate { get; set; }
}

internal sealed class AuthDto : JsonObjectDto
{
    public AnonymousDto? Anonymous { get; set; }

    public TicketDto? Ticket { get; set; }

    public WampCraDto? Wampcra { get; set; }

    public CryptosignDto? Cryptosign { get; set; }
}

internal sealed class AnonymousDto : JsonObjectDto
{
    public string? Type { get; set; }

    public string? Role { get; set; }

    public string? Authid { get; set; }

    public string? Realm { get; set; }
}

internal sealed class TicketDto : JsonObjectDto
{
    public string? Type { get; set; }

    public Dictionary<string, TicketPrincipalDto?>? Principals { get; set; }
}

internal sealed class TicketPrincipalDto : JsonObjectDto
{
    public string? Ticket { get; set; }

    public string? Role { get; set; }
}

internal sealed class WampCraDto : JsonObjectDto
{
    public string? Type { get; set; }

    public Dictionary<string, WampCraUserDto?>? Users { get; set; }
}

internal sealed class WampCraUserDto : JsonObjectDto
{
    public string? Secret { get; set; }

    public string? Role { get; set; }

    public string? Salt { get; set; }

    public int? Iterations { get; set; }

    public int? Keylen { get; set; }
}

internal sealed class CryptosignDto : JsonObjectDto
{
    public string? Type { get; set; }

    public Dictionary<string, CryptosignPrincipalDto?>? Principals { get; set; }
}

internal sealed class CryptosignPrincipalDto : JsonObjectDto
{
    public List<string?>? AuthorizedKeys { get; set; }

    public string? Role { get; set; }

    public string? Realm { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    MaxDepth = 64)]
[JsonSerializable(typeof(ConfigDto))]
internal sealed partial class ConfigurationJsonContext : JsonSerializerContext;
