namespace WampContracts;

/// <summary>
/// When and how a call that failed transiently is sent again. Only calls that are safe to repeat are ever retried:
/// <c>[NoSideEffects]</c> methods, <c>[Idempotent]</c> methods, and calls that carry an idempotency key; the key is the
/// same on every attempt.
/// </summary>
public sealed class WampRetryPolicy
{
    /// <summary>
    /// Up to 3 attempts, backoff from 100 ms to 2 s with full jitter, a 5 s window for a restarting callee. A new
    /// instance each time: no shared instance exists that binding or reflection could change for every session.
    /// </summary>
    public static WampRetryPolicy Default => new();

    /// <summary>One attempt: no retries (a new instance each time).</summary>
    public static WampRetryPolicy None => new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included (gRPC caps this at 5; so do we). Default 3.</summary>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = Math.Clamp(value, 1, 5);
    }

    private readonly int _maxAttempts = 3;

    /// <summary>The bound of the first backoff; each later one grows by <see cref="Multiplier"/>. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest backoff bound. Default 2 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Default 2.</summary>
    public double Multiplier { get; init; } = 2;

    /// <summary>
    /// How long after the first attempt <c>wamp.error.no_such_procedure</c> still counts as transient (a callee
    /// restarting); after it, the error is final. Default 5 s.
    /// </summary>
    public TimeSpan CalleeRestartWindow { get; init; } = TimeSpan.FromSeconds(5);

    internal TimeSpan BackoffBefore(int retry) => Backoff.FullJitter(InitialBackoff, MaxBackoff, Multiplier, retry);
}

/// <summary>Exponential backoff with full jitter, shared by retries and reconnection.</summary>
internal static class Backoff
{
    /// <summary>A random delay in [0, min(max, initial × multiplier^(n-1))).</summary>
    public static TimeSpan FullJitter(TimeSpan initial, TimeSpan max, double multiplier, int n)
    {
        double bound = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(multiplier, n - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * bound);
    }
}

/// <summary>
/// A session's retry budget, a token bucket after gRPC's retry throttling: every failed attempt takes a token, every
/// success gives back <see cref="TokenRatio"/>, and retries are allowed only while more than half of
/// <see cref="MaxTokens"/> remain. Under sustained failure, retries stop after a burst instead of multiplying the load.
/// </summary>
public sealed class WampRetryBudget
{
    /// <summary>The bucket's size, and the burst of retries allowed from full. Default 10.</summary>
    public int MaxTokens { get; init; } = 10;

    /// <summary>Tokens a success gives back. Default 0.1: about one retry per ten successful calls.</summary>
    public double TokenRatio { get; init; } = 0.1;
}

/// <summary>A per-call retry policy for every call inside the scope; it takes precedence over <c>[Retry]</c> and the session's.</summary>
public static class WampRetry
{
    private static readonly AsyncLocal<WampRetryPolicy?> Ambient = new();

    public static IDisposable Override(WampRetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return AmbientScope.Enter(Ambient, policy);
    }

    internal static WampRetryPolicy? Current => Ambient.Value;
}

/// <summary>The running state of a session's <see cref="WampRetryBudget"/>.</summary>
internal sealed class RetryThrottle(WampRetryBudget budget)
{
    private readonly Lock _lock = new();
    private double _tokens = budget.MaxTokens;

    public void OnSuccess()
    {
        lock (_lock) _tokens = Math.Min(budget.MaxTokens, _tokens + budget.TokenRatio);
    }

    /// <summary>Records a failed attempt; true when a retry is allowed.</summary>
    public bool OnFailureMayRetry()
    {
        lock (_lock)
        {
            _tokens = Math.Max(0, _tokens - 1);
            return _tokens > budget.MaxTokens / 2.0;
        }
    }
}
