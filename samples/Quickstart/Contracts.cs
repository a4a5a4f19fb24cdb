using System.Text.Json;
using System.Text.Json.Serialization;
using WampContracts;

namespace Quickstart;

public sealed record Conference(string Name, string Where, int Id);

[WampService("com.example.conferences")]
public interface IConferences
{
    [Timeout(2000), NoSideEffects]
    Task<Conference> Get(int id, CancellationToken cancellationToken = default);   // com.example.conferences.get: a read, retried, nothing stored

    [WampProcedure("search_by_city")]
    Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default);
}

[WampEvents("com.example.conferences")]
public interface IConferenceEvents
{
    Task Updated(Conference conference);                                             // com.example.conferences.updated
}

[WampError("com.example.error.not_found")]
public sealed class ConferenceNotFoundException(int id) : WampException("com.example.error.not_found", $"conference {id} not found")
{
    public int Id { get; } = id;     // travels as the keyword argument "id"; callers get the exception back with it
}

/// <summary>
/// Source-generated JSON metadata: nothing is serialized by reflection, so the app trims and compiles ahead of time. The
/// generated code hands it to the runtime's default options; the build reports any contract type it lacks (WAMP0021).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(WampBinaryConverter)])]
[JsonSerializable(typeof(Conference))]
[JsonSerializable(typeof(IReadOnlyList<Conference>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class QuickstartJson : JsonSerializerContext;
