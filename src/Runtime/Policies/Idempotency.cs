using System.Security.Cryptography;

namespace WampContracts;

/// <summary>One logical call as the callee's deduplication sees it.</summary>
/// <param name="Scope">The procedure URI, and the caller's identity when the router disclosed it.</param>
/// <param name="Key">The idempotency key the caller sent.</param>
/// <param name="Fingerprint">A hash of the arguments: the same key with other arguments is refused.</param>
public readonly record struct IdempotencyRequest(string Scope, string Key, string Fingerprint)
{
    /// <summary>
    /// The fingerprint of a call's arguments: SHA-256 of their raw JSON, hex. The call metadata the payload may carry
    /// (<c>x_wampcontracts</c>) is left out: its time limit differs between attempts of one logical call.
    /// </summary>
    public static string FingerprintOf(WampPayload payload)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(payload.ArgumentsJson.Span);
        new Protocol.WampDict(payload.KeywordArgumentsJson).ForEach(sha, static (hash, key, raw) =>
        {
            if (key == CallMetadata.PayloadKeyName) return;
            hash.AppendData([0]);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            hash.AppendData([0]);
            hash.AppendData(raw.Span);
        });
        return Convert.ToHexString(sha.GetHashAndReset());
    }
}

/// <summary>The stored first completion of a call: its result, or the application error it answered with.</summary>
public sealed record IdempotencyOutcome(string? ErrorUri, byte[] ArgumentsJson, byte[] KeywordArgumentsJson)
{
    public bool IsError => ErrorUri is not null;

    public WampPayload Payload => WampPayload.FromJson(ArgumentsJson, KeywordArgumentsJson);

    public static IdempotencyOutcome FromResult(WampPayload result) =>
        new(null, result.ArgumentsJson.ToArray(), result.KeywordArgumentsJson.ToArray());

    public static IdempotencyOutcome FromError(WampException error) =>
        new(error.Uri, error.Payload.ArgumentsJson.ToArray(), error.Payload.KeywordArgumentsJson.ToArray());
}

/// <summary>What a store says about a key.</summary>
public enum IdempotencyClaimKind
{
    /// <summary>First time: the caller of <see cref="IIdempotencyStore.TryClaimAsync"/> runs the work, then completes or releases it.</summary>
    Claimed,
    /// <summary>Done before: replay <see cref="IdempotencyClaim.Outcome"/>.</summary>
    Completed,
    /// <summary>Running now: wait for <see cref="IdempotencyClaim.Running"/>, then claim again.</summary>
    InFlight,
    /// <summary>The key was used with other arguments: refuse.</summary>
    Mismatch,
}

/// <summary>The answer of <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
public readonly record struct IdempotencyClaim(IdempotencyClaimKind Kind, IdempotencyOutcome? Outcome = null, Task? Running = null);

/// <summary>
/// Where a callee remembers what it answered for each idempotency key. The default keeps entries in memory; a fleet
/// of callees plugs in a shared store (a database, a cache) so that a retry reaching another instance is deduplicated too.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="request"/>'s key, or says why not.</summary>
    ValueTask<IdempotencyClaim> TryClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken);

    /// <summary>Stores the first completion of a claimed key; later claims replay it.</summary>
    ValueTask CompleteAsync(IdempotencyRequest request, IdempotencyOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Forgets a claimed key whose work did not complete (canceled, timed out, crashed), so a retry can run it.</summary>
    ValueTask ReleaseAsync(IdempotencyRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// The default <see cref="IIdempotencyStore"/>: in memory, bounded by <see cref="Capacity"/> (the oldest completed
/// entries are evicted first) and by <see cref="Retention"/> (completed entries expire after it).
/// </summary>
public sealed class InMemoryIdempotencyStore : IIdempotencyStore
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _completedOrder = new(); // oldest completion first
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public InMemoryIdempotencyStore(int capacity = 10_000, TimeSpan? retention = null, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Retention = retention ?? TimeSpan.FromHours(24);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Most completed keys kept (default 10,000).</summary>
    public int Capacity { get; }

    /// <summary>How long a completed key is kept (default 24 h).</summary>
    public TimeSpan Retention { get; }

    /// <summary>Keys currently held, running or completed.</summary>
    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    public ValueTask<IdempotencyClaim> TryClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken)
    {
        string id = Id(request);
        lock (_lock)
        {
            Expire();
            if (_entries.TryGetValue(id, out var entry))
            {
                if (entry.Fingerprint != request.Fingerprint) return ValueTask.FromResult(new IdempotencyClaim(IdempotencyClaimKind.Mismatch));
                return ValueTask.FromResult(entry.Outcome is { } outcome
                    ? new IdempotencyClaim(IdempotencyClaimKind.Completed, outcome)
                    : new IdempotencyClaim(IdempotencyClaimKind.InFlight, Running: entry.Done.Task));
            }
            _entries.Add(id, new Entry(request.Fingerprint));
            return ValueTask.FromResult(new IdempotencyClaim(IdempotencyClaimKind.Claimed));
        }
    }

    public ValueTask CompleteAsync(IdempotencyRequest request, IdempotencyOutcome outcome, CancellationToken cancellationToken)
    {
        string id = Id(request);
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(id, out entry) || entry.Outcome is not null) return ValueTask.CompletedTask;
            entry.Outcome = outcome;
            entry.ExpiresAt = _time.GetTimestamp() + (long)(Retention.TotalSeconds * _time.TimestampFrequency);
            entry.Node = _completedOrder.AddLast(id);
            while (_completedOrder.Count > Capacity)
            {
                _entries.Remove(_completedOrder.First!.Value);
                _completedOrder.RemoveFirst();
            }
        }
        entry.Done.TrySetResult();
        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(IdempotencyRequest request, CancellationToken cancellationToken)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.Remove(Id(request), out entry)) return ValueTask.CompletedTask;
            if (entry.Node is not null) _completedOrder.Remove(entry.Node);
        }
        entry.Done.TrySetResult();
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops completed entries past their retention; they expire in completion order.</summary>
    private void Expire()
    {
        long now = _time.GetTimestamp();
        while (_completedOrder.First is { } first && _entries[first.Value].ExpiresAt <= now)
        {
            _entries.Remove(first.Value);
            _completedOrder.RemoveFirst();
        }
    }

    private static string Id(IdempotencyRequest request) => request.Scope + "\n" + request.Key;

    private sealed class Entry(string fingerprint)
    {
        public string Fingerprint { get; } = fingerprint;
        public IdempotencyOutcome? Outcome { get; set; }
        public long ExpiresAt { get; set; }
        public LinkedListNode<string>? Node { get; set; }
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Error URIs the call policies answer with.</summary>
public static class WampPolicyErrors
{
    /// <summary>An idempotency key was sent again with different arguments (the IETF draft's 422).</summary>
    public const string IdempotencyKeyReused = "wampcontracts.error.idempotency_key_reused";
}
