namespace WampContracts;

/// <summary>
/// The one timer mechanism of a session: every pending call with a limit is queued by its limit, and a single
/// <see cref="ITimer"/> is armed for the earliest due time. No timer, task or node is allocated per call.
/// </summary>
/// <remarks>
/// Items scheduled with the same limit fall due in the order they were scheduled (due = now + limit, read under the
/// lock), so one first-in, first-out list per limit keeps them sorted for free: scheduling appends, cancelling
/// unlinks (both O(1), the links live in the items), and the earliest due time is the head of one of the lists. Calls
/// mostly share a handful of limits (a session's default, a method's), whose lists stay when they empty (a call
/// answered before the next is made empties its list every time); limits cut short by a deadline get lists of their
/// own, dropped as they empty, as is every list that empties while more than <see cref="KeptLists"/> exist.
/// </remarks>
internal sealed class CallTimers : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Dictionary<TimeSpan, TimerList> _lists = new();
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;

    /// <summary>How many lists are kept while empty, for limits that served more than one item.</summary>
    private const int KeptLists = 8;

    /// <summary>How many lists exist, empty ones kept for their limit included.</summary>
    internal int ListCount
    {
        get { lock (_lock) return _lists.Count; }
    }

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
        lock (_lock)
        {
            if (item.TimerList is not null) Unlink(item);
            long due = TimeLimit.Due(_time, _time.GetTimestamp(), limit);
            if (!_lists.TryGetValue(limit, out var list)) _lists.Add(limit, list = new TimerList(limit));
            item.TimerDue = due;
            list.Append(item);
            if (due < _armedFor) Arm(due);
        }
    }

    /// <summary>Stops <paramref name="item"/>'s timer; false when it was not scheduled (never, or it is expiring now).</summary>
    public bool Cancel(ITimed item)
    {
        lock (_lock)
        {
            if (item.TimerList is null) return false;
            Unlink(item);
            return true;
        }
    }

    private void Unlink(ITimed item)
    {
        var list = (TimerList)item.TimerList!;
        list.Remove(item);
        if (list.Head is null && !Keeps(list)) _lists.Remove(list.Limit);
    }

    /// <summary>The limit of the last list dropped as it emptied: seen again, it is a limit in use, whose list stays.</summary>
    private TimeSpan _lastDropped = TimeSpan.MinValue;

    /// <summary>Whether an empty list stays for the next item of its limit: one of a few limits used more than once.</summary>
    private bool Keeps(TimerList list)
    {
        if ((list.Served > 1 || list.Limit == _lastDropped) && _lists.Count <= KeptLists) return true;
        _lastDropped = list.Limit;
        return false;
    }

    private void Fire()
    {
        List<ITimed>? expired = null;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            long next = long.MaxValue;
            List<TimeSpan>? emptied = null;
            foreach (var list in _lists.Values)
            {
                while (list.Head is { } head && head.TimerDue <= now)
                {
                    list.Remove(head);
                    (expired ??= []).Add(head);
                }
                if (list.Head is { } first) next = Math.Min(next, first.TimerDue);
                else if (!Keeps(list)) (emptied ??= []).Add(list.Limit);
            }
            if (emptied is not null) foreach (var limit in emptied) _lists.Remove(limit);
            _armedFor = long.MaxValue;
            if (next != long.MaxValue) Arm(next);
        }
        // IMPORTANT: expire outside the lock; expiring completes tasks and may schedule again.
        if (expired is null) return;
        // Earliest first, as they fell due (lists of different limits interleave); a stable order keeps those due at
        // the same time in the order they were scheduled.
        IEnumerable<ITimed> ordered = expired.Count > 1 ? expired.OrderBy(static x => x.TimerDue) : expired;
        List<Exception>? failures = null;
        foreach (var item in ordered)
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

    /// <summary>The items of one limit, earliest due first, linked through the items themselves.</summary>
    private sealed class TimerList(TimeSpan limit)
    {
        public TimeSpan Limit { get; } = limit;
        public ITimed? Head { get; private set; }
        private ITimed? _tail;

        /// <summary>How many items this list has held (saturating).</summary>
        public int Served { get; private set; }

        public void Append(ITimed item)
        {
            if (Served < int.MaxValue) Served++;
            item.TimerList = this;
            item.TimerPrevious = _tail;
            item.TimerNext = null;
            if (_tail is null) Head = item;
            else _tail.TimerNext = item;
            _tail = item;
        }

        public void Remove(ITimed item)
        {
            if (item.TimerPrevious is { } previous) previous.TimerNext = item.TimerNext;
            else Head = item.TimerNext;
            if (item.TimerNext is { } next) next.TimerPrevious = item.TimerPrevious;
            else _tail = item.TimerPrevious;
            item.TimerList = null;
            item.TimerPrevious = null;
            item.TimerNext = null;
        }
    }
}

/// <summary>Something <see cref="CallTimers"/> can expire. The timer fields are owned by <see cref="CallTimers"/> under its lock.</summary>
internal interface ITimed
{
    long TimerDue { get; set; }

    /// <summary>The list the item is queued in; null when it is not scheduled.</summary>
    object? TimerList { get; set; }

    ITimed? TimerPrevious { get; set; }

    ITimed? TimerNext { get; set; }

    void OnExpired();
}
