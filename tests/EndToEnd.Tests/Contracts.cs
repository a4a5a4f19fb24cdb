using System.Runtime.CompilerServices;

namespace WampContracts.EndToEnd.Tests;

public sealed record Attendee(string Name, string Email);

public sealed record Ticket(int ConferenceId, string Attendee, string? RequestId);

public sealed record ImportProgress(int Done, int Total);

[WampService("com.example.conferences")]
public interface IConferences
{
    [Timeout(2000), Idempotent]
    Task<Conference> Get(int id, CancellationToken cancellationToken = default);

    [WampProcedure("search_by_city")]
    Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default);

    Task<Ticket> Register(int conferenceId, Attendee attendee, [IdempotencyKey] string? requestId = null, CancellationToken cancellationToken = default);

    IAsyncEnumerable<ImportProgress> Import(string source, CancellationToken cancellationToken = default);

    Task Touch(int id);

    ValueTask<int> CountAsync(string? city = null);

    ValueTask Reset();

    Task<Conference?> Find(string name);
}

[WampEvents("com.example.conferences")]
public interface IConferenceEvents
{
    Task Updated(Conference conference);

    ValueTask Deleted(int id, string? reason = null);
}

[WampError("com.example.error.not_found")]
public sealed class ConferenceNotFoundException(int id) : WampException("com.example.error.not_found", $"conference {id} not found")
{
    public int Id { get; } = id;     // travels as the keyword argument "id"; callers get the exception back with it
}

public sealed class ConferenceService : IConferences
{
    private readonly List<Conference> _conferences = [new("deSymfony", "Madrid", 123), new("NDC", "Oslo", 7), new("Update", "Prague", 8)];

    public int Touched;

    public Task<Conference> Get(int id, CancellationToken cancellationToken = default) =>
        _conferences.FirstOrDefault(c => c.Id == id) is { } c ? Task.FromResult(c) : throw new ConferenceNotFoundException(id);

    public Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Conference>>(_conferences.Where(c => c.Where == city).Take(limit).ToList());

    public Task<Ticket> Register(int conferenceId, Attendee attendee, string? requestId = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Ticket(conferenceId, attendee.Name, requestId));

    public async IAsyncEnumerable<ImportProgress> Import(string source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 1; i <= 3; i++)
        {
            await Task.Yield();
            yield return new ImportProgress(i, 3);
        }
    }

    public Task Touch(int id)
    {
        Interlocked.Increment(ref Touched);
        return Task.CompletedTask;
    }

    public ValueTask<int> CountAsync(string? city = null) => ValueTask.FromResult(_conferences.Count(c => city is null || c.Where == city));

    public ValueTask Reset() => ValueTask.CompletedTask;

    public Task<Conference?> Find(string name) => Task.FromResult(_conferences.FirstOrDefault(c => c.Name == name));
}

public sealed record Conference(string Name, string Where, int Id);
