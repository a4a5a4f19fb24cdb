namespace WampContracts;

/// <summary>
/// Arithmetic on time limits that never throws or overflows, whatever a peer sends: a limit of 10^15 ms, or a
/// caller's <c>Timeout = 60 days</c>, is held as a far-off due time instead of breaking a timer.
/// </summary>
internal static class TimeLimit
{
    /// <summary>The longest delay one <see cref="ITimer"/> arm can hold (2^32 − 2 ms, about 49.7 days); longer waits re-arm.</summary>
    public static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// A limit in milliseconds as it arrives on the wire (CALL/INVOCATION <c>timeout</c>, the payload carrier's
    /// <c>timeout_ms</c>): null when absent, zero or negative (no limit), and at most <see cref="TimeSpan.MaxValue"/>.
    /// </summary>
    public static TimeSpan? FromWireMilliseconds(long? milliseconds) => milliseconds switch
    {
        null or <= 0 => null,
        >= MaxMilliseconds => TimeSpan.MaxValue,
        _ => TimeSpan.FromMilliseconds(milliseconds.Value),
    };

    /// <summary>The limit in whole milliseconds for the wire, at least 1.</summary>
    public static long ToWireMilliseconds(TimeSpan limit) =>
        limit.Ticks >= MaxMilliseconds * TimeSpan.TicksPerMillisecond ? MaxMilliseconds : Math.Max(1, (long)Math.Ceiling(limit.TotalMilliseconds));

    private const long MaxMilliseconds = long.MaxValue / TimeSpan.TicksPerMillisecond;

    /// <summary>The timestamp of <paramref name="time"/> at which <paramref name="limit"/> from <paramref name="now"/> passes, saturating at <see cref="long.MaxValue"/>.</summary>
    public static long Due(TimeProvider time, long now, TimeSpan limit)
    {
        double ticks = Math.Max(0, limit.TotalSeconds) * time.TimestampFrequency;
        return ticks >= long.MaxValue - (double)now ? long.MaxValue : now + (long)ticks;
    }

    /// <summary>A delay for one timer arm: non-negative and at most <see cref="MaxTimerDelay"/>.</summary>
    public static TimeSpan TimerDelay(TimeProvider time, long now, long due)
    {
        if (due <= now) return TimeSpan.Zero;
        // The difference in whole ticks first: timestamps are too large for a double to hold exactly.
        double seconds = (due - now) / (double)time.TimestampFrequency;
        return seconds >= MaxTimerDelay.TotalSeconds ? MaxTimerDelay : TimeSpan.FromSeconds(seconds);
    }
}
