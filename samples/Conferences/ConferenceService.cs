using WampContracts;

namespace Conferences;

/// <summary>The conferences, in memory. Every change is published as <c>com.example.conferences.updated</c>.</summary>
public sealed class ConferenceService(IConferenceEvents events, TimeProvider time) : IConferences
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Conference> _conferences = new()
    {
        [123] = new("deSymfony", "Madrid", 123),
        [7] = new("NDC Oslo", "Oslo", 7),
        [42] = new("Update Conference", "Prague", 42),
    };
    private readonly List<Ticket> _tickets = new();

    /// <summary>How many tickets were really issued (a retried registration does not issue another).</summary>
    public int TicketsIssued
    {
        get { lock (_lock) return _tickets.Count; }
    }

    public Task<Conference> Get(int id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return _conferences.TryGetValue(id, out var c) ? Task.FromResult(c) : throw new ConferenceNotFoundException(id);
    }

    public Task<IReadOnlyList<Conference>> List(CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<Conference>>(_conferences.Values.OrderBy(c => c.Id).ToArray());
    }

    public async Task<Conference> Update(int id, string where, CancellationToken cancellationToken = default)
    {
        Conference updated;
        lock (_lock)
        {
            if (!_conferences.TryGetValue(id, out var c)) throw new ConferenceNotFoundException(id);
            _conferences[id] = updated = c with { Where = where };
        }
        await events.Updated(updated);
        return updated;
    }

    public Task<Ticket> Register(int conferenceId, Attendee attendee, string? requestId = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_conferences.ContainsKey(conferenceId)) throw new ConferenceNotFoundException(conferenceId);
            var ticket = new Ticket(conferenceId, attendee.Name, _tickets.Count + 1);
            _tickets.Add(ticket);
            return Task.FromResult(ticket);
        }
    }

    public async Task<string> Report(int id, CancellationToken cancellationToken = default)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken); // longer than the 200 ms the contract allows
        return $"report for {id}";
    }
}
