namespace WampContracts;

/// <summary>
/// The one timer mechanism of a session: every pending call with a limit sits in one ordered set, and a single
/// <see cref="ITimer"/> is armed for the earliest. Adding and removing are O(log n); no timer or task is created per call.
/// </summary>
internal sealed class CallTimers : IDisposable
{
    private readonly TimeProvider _time;
    private readonly SortedSet<ITimed> _due = new(DueComparer.Instance);
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private long _sequence;

    /// <summary>Told of what an expiry threw (it is never rethrown on the timer's thread).</summary>
    public Action<Exception>? OnExpiryFailed { get; init; }

    public CallTimers(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((CallTimers)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Schedules <paramref name="item"/> to expire after <paramref name="limit"/> (replacing an earlier schedule).</summary>
    public void Schedule(ITimed item, TimeSpan limit)
    {
        long due = TimeLimit.Due(_time, _time.GetTimestamp(), limit);
        lock (_lock)
        {
            if (item.TimerSequence != 0) _due.Remove(item);
            item.TimerDue = due;
            item.TimerSequence = ++_sequence;
            _due.Add(item);
            if (due < _armedFor) Arm(due);
        }
    }

    public void Cancel(ITimed item)
    {
        lock (_lock)
        {
            if (item.TimerSequence == 0) return;
            _due.Remove(item);
            item.TimerSequence = 0;
        }
    }

    private void Fire()
    {
        List<ITimed>? expired = null;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            while (_due.Count > 0 && _due.Min!.TimerDue <= now)
            {
                var item = _due.Min!;
                _due.Remove(item);
                item.TimerSequence = 0;
                (expired ??= []).Add(item);
            }
            _armedFor = long.MaxValue;
            if (_due.Count > 0) Arm(_due.Min!.TimerDue);
        }
        // IMPORTANT: expire outside the lock; expiring completes tasks and may schedule again.
        if (expired is null) return;
        List<Exception>? failures = null;
        foreach (var item in expired)
        {
            // One item's failure must neither stop the others from expiring nor escape on the timer's thread.
            try { item.OnExpired(); }
            catch (Exception e) { (failures ??= []).Add(e); }
        }
        if (failures is not null) OnExpiryFailed?.Invoke(new AggregateException(failures));
    }

    private void Arm(long due)
    {
        _armedFor = due;
        // A due time past what one arm can hold (about 49.7 days) fires early, finds nothing expired, and re-arms.
        _timer.Change(TimeLimit.TimerDelay(_time, _time.GetTimestamp(), due), Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();

    private sealed class DueComparer : IComparer<ITimed>
    {
        public static readonly DueComparer Instance = new();

        public int Compare(ITimed? x, ITimed? y)
        {
            int c = x!.TimerDue.CompareTo(y!.TimerDue);
            return c != 0 ? c : x.TimerSequence.CompareTo(y.TimerSequence);
        }
    }
}

/// <summary>Something <see cref="CallTimers"/> can expire. The timer fields are owned by <see cref="CallTimers"/> under its lock.</summary>
internal interface ITimed
{
    long TimerDue { get; set; }
    long TimerSequence { get; set; }
    void OnExpired();
}
