using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// Requests waiting for the router's answer, keyed by WAMP request id. One lock guards the map.
/// Order of operations (see <see cref="WampSession"/>): add before sending, remove if the send fails,
/// complete exactly once (answer, error, cancel, or session loss). Completions run outside the lock.
/// </summary>
internal sealed class PendingCallTable
{
    private readonly Dictionary<long, PendingRequest> _map = new();
    private readonly Lock _lock = new();
    private bool _closed;

    /// <summary>Adds a request; false when the session is already closed (the request must then fail).</summary>
    public bool TryAdd(long requestId, PendingRequest request)
    {
        lock (_lock)
        {
            if (_closed) return false;
            _map.Add(requestId, request);
            return true;
        }
    }

    public PendingRequest? TryGet(long requestId)
    {
        lock (_lock) return _map.GetValueOrDefault(requestId);
    }

    /// <summary>Removes and returns the request, or null if it already completed (late answers are dropped).</summary>
    public PendingRequest? TryRemove(long requestId)
    {
        lock (_lock) return _map.Remove(requestId, out var r) ? r : null;
    }

    /// <summary>Removes <paramref name="request"/> only if it is still the entry for its id.</summary>
    public bool TryRemove(long requestId, PendingRequest request)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(requestId, out var r) || !ReferenceEquals(r, request)) return false;
            _map.Remove(requestId);
            return true;
        }
    }

    /// <summary>Closes the table and fails every request with <paramref name="error"/>; later adds fail.</summary>
    public void CloseAndFailAll(Exception error)
    {
        PendingRequest[] all;
        lock (_lock)
        {
            _closed = true;
            all = [.. _map.Values];
            _map.Clear();
        }
        // IMPORTANT: complete outside the lock; continuations may call back into the table.
        foreach (var r in all) r.Fail(error);
    }
}

/// <summary>A request in the <see cref="PendingCallTable"/>.</summary>
internal abstract class PendingRequest
{
    /// <summary>The router answered (RESULT, REGISTERED, ...). Called once the entry was removed (or, for progress, found).</summary>
    public abstract void OnAnswer(in WampMessage message);

    /// <summary>The router answered with ERROR.</summary>
    public abstract void OnError(in WampMessage message);

    /// <summary>The request can no longer be answered.</summary>
    public abstract void Fail(Exception error);
}
