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
public sealed class ConferenceNotFoundException : WampException
{
    public ConferenceNotFoundException(int id)
        : base("com.example.error.not_found", WampPayload.FromJson($"[\"conference {id} not found\"]", $"{{\"id\":{id}}}"))
    {
    }

    public ConferenceNotFoundException(WampPayload payload) : base("com.example.error.not_found", payload)
    {
    }
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
