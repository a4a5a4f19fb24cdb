using System.Text.Json;
using System.Text.Json.Serialization;
using WampContracts;

namespace Conferences;

public sealed record Conference(string Name, string Where, int Id);

public sealed record Attendee(string Name, string Email);

public sealed record Ticket(int ConferenceId, string Attendee, int Number);

[WampService("com.example.conferences")]
public interface IConferences
{
    [Timeout(2000), NoSideEffects]
    Task<Conference> Get(int id, CancellationToken cancellationToken = default);                  // com.example.conferences.get: a read, retried, nothing stored

    [NoSideEffects]
    Task<IReadOnlyList<Conference>> List(CancellationToken cancellationToken = default);          // com.example.conferences.list

    [Idempotent]
    Task<Conference> Update(int id, string where, CancellationToken cancellationToken = default); // publishes com.example.conferences.updated

    Task<Ticket> Register(int conferenceId, Attendee attendee, [IdempotencyKey] string? requestId = null, CancellationToken cancellationToken = default);

    [Timeout(200)]
    Task<string> Report(int id, CancellationToken cancellationToken = default);                   // slow: shows a timeout
}

[WampEvents("com.example.conferences")]
public interface IConferenceEvents
{
    Task Updated(Conference conference);                                                           // com.example.conferences.updated
}

[WampError("com.example.error.not_found")]
public sealed class ConferenceNotFoundException(int id) : WampException("com.example.error.not_found", $"conference {id} not found")
{
    public int Id { get; } = id;     // travels as the keyword argument "id"; callers get the exception back with it
}

/// <summary>Source-generated JSON metadata: nothing is serialized by reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(WampBinaryConverter)])]
[JsonSerializable(typeof(Conference))]
[JsonSerializable(typeof(IReadOnlyList<Conference>))]
[JsonSerializable(typeof(Attendee))]
[JsonSerializable(typeof(Ticket))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
public sealed partial class ConferencesJson : JsonSerializerContext;
