namespace WampContracts;

/// <summary>
/// An ambient, absolute deadline that every call inside the scope shares, across awaits and across hops: a callee's
/// handler runs inside the deadline its caller sent, so the calls it makes inherit what remains of it.
/// </summary>
/// <example><code>
/// using (WampDeadline.Within(TimeSpan.FromSeconds(2)))
/// {
///     var a = await conferences.Get(1);     // each attempt's limit: the smaller of its timeout and what remains
///     var b = await tickets.Count(a.Id);
/// }
/// </code></example>
public static class WampDeadline
{
    private static readonly AsyncLocal<Scoped?> Ambient = new();

    /// <summary>Starts a scope whose deadline is <paramref name="budget"/> from now, or the enclosing one if that is sooner.</summary>
    public static IDisposable Within(TimeSpan budget, TimeProvider? timeProvider = null)
    {
        timeProvider ??= TimeProvider.System;
        long now = timeProvider.GetTimestamp();
        long due = TimeLimit.Due(timeProvider, now, budget);
        if (Current is { } previous && previous.TimeProvider == timeProvider && previous.Due <= due) due = previous.Due;
        return AmbientScope.Enter(Ambient, new Scoped(new Deadline(timeProvider, due)));
    }

    /// <summary>What remains of the ambient deadline (zero once it has passed), or null outside any scope.</summary>
    public static TimeSpan? Remaining => Current?.Remaining;

    /// <summary>
    /// The sooner of the innermost scope's deadline and that of the invocation the code runs for (a handler runs
    /// inside the time limit its caller sent, without a scope object of its own).
    /// </summary>
    internal static Deadline? Current
    {
        get
        {
            var scope = Ambient.Value?.Deadline;
            if (WampInvocationContext.Current is not { Due: { } due } invocation) return scope;
            // A scope opened inside the handler already took the invocation's deadline into account.
            var time = invocation.Session.Options.TimeProvider;
            return scope is { } s && s.Due <= due && s.TimeProvider == time ? s : new Deadline(time, due);
        }
    }

    /// <summary>A scope's deadline, as the ambient value holds it.</summary>
    private sealed record Scoped(Deadline Deadline);

    internal readonly record struct Deadline(TimeProvider TimeProvider, long Due)
    {
        public TimeSpan Remaining
        {
            get
            {
                long left = Due - TimeProvider.GetTimestamp();
                return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(left / (double)TimeProvider.TimestampFrequency);
            }
        }
    }
}

/// <summary>Sets an ambient value until the returned scope is disposed, then restores the one before.</summary>
internal static class AmbientScope
{
    public static IDisposable Enter<T>(AsyncLocal<T?> ambient, T value) where T : class
    {
        var scope = new Scope<T>(ambient, ambient.Value);
        ambient.Value = value;
        return scope;
    }

    private sealed class Scope<T>(AsyncLocal<T?> ambient, T? previous) : IDisposable where T : class
    {
        public void Dispose() => ambient.Value = previous;
    }
}

/// <summary>A per-call time limit for every call inside the scope; it takes precedence over <c>[Timeout]</c> and the session's default.</summary>
public static class WampTimeout
{
    private static readonly AsyncLocal<Limit?> Ambient = new();

    private sealed record Limit(TimeSpan Value);

    /// <summary>Calls inside the scope use <paramref name="timeout"/> as their limit (still capped by any deadline).</summary>
    public static IDisposable Override(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return AmbientScope.Enter(Ambient, new Limit(timeout));
    }

    internal static TimeSpan? Current => Ambient.Value?.Value;
}

/// <summary>A call ran out of time: its own limit or the ambient deadline passed before the answer came.</summary>
public sealed class WampTimeoutException : TimeoutException
{
    public WampTimeoutException(string procedure, TimeSpan elapsed, TimeSpan limit, int attempts, Exception? innerException = null)
        : base($"The call to '{procedure}' timed out after {elapsed.TotalMilliseconds:0} ms (limit {limit.TotalMilliseconds:0} ms, {attempts} attempt{(attempts == 1 ? "" : "s")}).", innerException)
    {
        Procedure = procedure;
        Elapsed = elapsed;
        Limit = limit;
        Attempts = attempts;
    }

    /// <summary>The procedure URI.</summary>
    public string Procedure { get; }

    /// <summary>Time from the first attempt's start to the failure.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The limit that passed (the attempt's, or what remained of the deadline).</summary>
    public TimeSpan Limit { get; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; }
}
