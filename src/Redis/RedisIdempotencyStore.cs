using StackExchange.Redis;

namespace WampContracts.Redis;

/// <summary>
/// An <see cref="IIdempotencyStore"/> in Redis, shared by every replica of a callee: the same semantics as
/// <see cref="InMemoryIdempotencyStore"/> across processes. A key is claimed atomically (one Lua script); its first
/// completion is stored and replayed; the same key with other arguments is refused; a duplicate arriving while the first
/// runs waits (polling, within its caller's cancellation) for the outcome; completed keys expire after
/// <see cref="Retention"/>. A claim whose holder died (its process killed mid-call) lapses after <see cref="ClaimLease"/>,
/// so a retry can run the work then.
/// </summary>
public sealed class RedisIdempotencyStore : IIdempotencyStore
{
    // KEYS: the entry. ARGV: fingerprint, lease (ms). Returns {kind, error uri, args, kwargs}.
    private const string ClaimScript = """
        local e = redis.call('HMGET', KEYS[1], 'fp', 'state', 'err', 'a', 'k')
        if not e[1] then
          redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'running')
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return {'claimed'}
        end
        if e[1] ~= ARGV[1] then return {'mismatch'} end
        if e[2] == 'done' then return {'completed', e[3] or '', e[4] or '', e[5] or '', e[3] and '1' or '0'} end
        return {'inflight'}
        """;

    // KEYS: the entry. ARGV: fingerprint, retention (ms), has error (1/0), error uri, args, kwargs.
    private const string CompleteScript = """
        local e = redis.call('HMGET', KEYS[1], 'fp', 'state')
        if e[1] and e[1] ~= ARGV[1] then return 0 end
        if e[2] == 'done' then return 0 end
        redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'done', 'a', ARGV[5], 'k', ARGV[6])
        if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'err', ARGV[4]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    // KEYS: the entry. ARGV: fingerprint.
    private const string ReleaseScript = """
        local e = redis.call('HMGET', KEYS[1], 'fp', 'state')
        if e[1] == ARGV[1] and e[2] == 'running' then redis.call('DEL', KEYS[1]) return 1 end
        return 0
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;

    /// <param name="redis">The connection (the application owns it).</param>
    /// <param name="retention">How long a completed key is kept (default 24 h, as in memory).</param>
    /// <param name="claimLease">How long a running claim holds without completing (default 5 min): past it, a holder that died no longer blocks retries.</param>
    /// <param name="prefix">The prefix of the store's Redis keys (default <c>wampcontracts:idempotency</c>).</param>
    /// <param name="pollInterval">How often a duplicate waiting for a running claim looks again (default 50 ms).</param>
    public RedisIdempotencyStore(IConnectionMultiplexer redis, TimeSpan? retention = null, TimeSpan? claimLease = null, string prefix = "wampcontracts:idempotency",
        TimeSpan? pollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _prefix = prefix;
        Retention = retention ?? TimeSpan.FromHours(24);
        ClaimLease = claimLease ?? TimeSpan.FromMinutes(5);
        PollInterval = pollInterval ?? TimeSpan.FromMilliseconds(50);
        if (Retention <= TimeSpan.Zero || ClaimLease <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(retention), "retention, lease and poll interval must be positive");
    }

    /// <summary>How long a completed key is kept.</summary>
    public TimeSpan Retention { get; }

    /// <summary>How long a claim that neither completed nor was released holds.</summary>
    public TimeSpan ClaimLease { get; }

    /// <summary>How often a waiting duplicate looks at a running claim again.</summary>
    public TimeSpan PollInterval { get; }

    private RedisKey KeyOf(IdempotencyRequest request) => $"{_prefix}:{request.Scope}\n{request.Key}";

    public async ValueTask<IdempotencyClaim> TryClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken)
    {
        var key = KeyOf(request);
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(ClaimScript, [key],
            [request.Fingerprint, (long)ClaimLease.TotalMilliseconds]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        switch ((string?)result[0])
        {
            case "claimed":
                return new IdempotencyClaim(IdempotencyClaimKind.Claimed);
            case "mismatch":
                return new IdempotencyClaim(IdempotencyClaimKind.Mismatch);
            case "completed":
                var outcome = new IdempotencyOutcome((string?)result[4] == "1" ? (string?)result[1] : null,
                    Bytes(result[2]), Bytes(result[3]));
                return new IdempotencyClaim(IdempotencyClaimKind.Completed, outcome);
            default:
                return new IdempotencyClaim(IdempotencyClaimKind.InFlight, Running: WaitWhileRunningAsync(key, request.Fingerprint, cancellationToken));
        }
    }

    private static byte[] Bytes(RedisResult value) => (byte[]?)value ?? [];

    /// <summary>Completes once the claim is no longer running (completed, released, or its lease lapsed); bounded by the caller's token.</summary>
    private async Task WaitWhileRunningAsync(RedisKey key, string fingerprint, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        while (true)
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            var values = await db.HashGetAsync(key, ["fp", "state"]).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (values[0].IsNull || (string?)values[0] != fingerprint || (string?)values[1] != "running") return;
        }
    }

    public async ValueTask CompleteAsync(IdempotencyRequest request, IdempotencyOutcome outcome, CancellationToken cancellationToken)
    {
        await _redis.GetDatabase().ScriptEvaluateAsync(CompleteScript, [KeyOf(request)],
        [
            request.Fingerprint, (long)Retention.TotalMilliseconds, outcome.IsError ? "1" : "0", outcome.ErrorUri ?? "",
            outcome.ArgumentsJson, outcome.KeywordArgumentsJson,
        ]).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReleaseAsync(IdempotencyRequest request, CancellationToken cancellationToken)
    {
        await _redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [KeyOf(request)], [request.Fingerprint])
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
