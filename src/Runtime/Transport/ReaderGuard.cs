using System.Diagnostics;

namespace WampContracts.Transport;

/// <summary>
/// The ownership of one connection's reader, which hands each message to its consumer on its own thread — the caller's
/// continuation of a call it answers, a handler that runs inline — so the answer costs no hop to another thread, and
/// what that code sends joins the reader's <see cref="SendBatch"/>. Code that does not return (it blocks, or computes
/// for long) would hold every other message of the connection back; the <see cref="ReaderWatchdog"/> then gives the
/// connection a new reader, which goes on from the next message, and from then on the connection hands answers to the
/// thread pool instead (<see cref="RunsContinuations"/>). The old reader finishes what it runs and leaves.
/// </summary>
/// <remarks>
/// A takeover happens only while the owner hands a message out (<see cref="BeginDispatch"/> to <see cref="EndDispatch"/>),
/// never while it reads, so the transport's buffer is only ever read by one thread. Both sides change ownership under one lock.
/// </remarks>
internal sealed class ReaderGuard
{
    /// <summary>How long one message may hold the reader before another takes over.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(10);

    private readonly Lock _lock = new();
    private readonly Action<int> _startReader;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _owner;
    private long _busySince; // Stopwatch timestamp; 0 while the owner reads
    private SendBatch? _batch;
    private volatile bool _runsContinuations = true;

    /// <param name="startReader">Starts a reader loop as the owner of the given generation.</param>
    public ReaderGuard(Action<int> startReader) => _startReader = startReader;

    /// <summary>
    /// Whether the reader runs the continuations of what it completes (until code it ran held it too long). The
    /// thread it runs them on is marked by <see cref="t_inline"/>.
    /// </summary>
    public bool RunsContinuations => _runsContinuations;

    /// <summary>True on a reader's thread while it hands out a message and may run continuations there.</summary>
    [ThreadStatic] internal static bool t_inline;

    /// <summary>Completes when the last owner's loop has ended.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts the first reader and watches it.</summary>
    public void Start()
    {
        ReaderWatchdog.Watch(this);
        _startReader(0);
    }

    /// <summary>The owner <paramref name="generation"/> got a message and is about to hand it out; false once another reader owns the connection.</summary>
    public bool BeginDispatch(int generation, SendBatch batch)
    {
        lock (_lock)
        {
            if (_owner != generation) return false;
            _busySince = Stopwatch.GetTimestamp();
            _batch = batch;
        }
        t_inline = _runsContinuations;
        return true;
    }

    /// <summary>The message is handed out; false when another reader took over meanwhile (this one then leaves).</summary>
    public bool EndDispatch(int generation)
    {
        t_inline = false;
        lock (_lock)
        {
            if (_owner != generation) return false;
            _busySince = 0;
            return true;
        }
    }

    /// <summary>The owner's loop has ended for good (the connection is over).</summary>
    public void Finish(int generation)
    {
        lock (_lock)
        {
            if (_owner != generation) return;
            _owner = -1;
        }
        ReaderWatchdog.Forget(this);
        _completion.TrySetResult();
    }

    /// <summary>Called by the watchdog: a reader held longer than <see cref="Patience"/> is replaced.</summary>
    internal void Check(long now)
    {
        if (Volatile.Read(ref _busySince) == 0) return;
        int next;
        SendBatch? batch;
        lock (_lock)
        {
            if (_owner < 0 || _busySince == 0 || Stopwatch.GetElapsedTime(_busySince, now) < Patience) return;
            next = ++_owner;
            _busySince = 0;
            batch = _batch;
            _batch = null;
            _runsContinuations = false;
        }
        // What the held reader deferred may be what its code waits for (a call it sent and blocks on).
        batch?.Steal();
        _startReader(next);
    }
}

/// <summary>
/// One thread per process that looks at every connection's reader every <see cref="ReaderGuard.Patience"/> and
/// replaces one held too long (see <see cref="ReaderGuard"/>). It runs only while some connection is open.
/// </summary>
internal static class ReaderWatchdog
{
    private static readonly Lock s_lock = new();
    private static readonly HashSet<ReaderGuard> s_readers = [];
    private static Thread? s_thread;

    public static void Watch(ReaderGuard reader)
    {
        lock (s_lock)
        {
            s_readers.Add(reader);
            if (s_thread is not null) return;
            s_thread = new Thread(Run) { IsBackground = true, Name = "WAMP reader watchdog" };
            s_thread.UnsafeStart();
        }
    }

    public static void Forget(ReaderGuard reader)
    {
        lock (s_lock) s_readers.Remove(reader);
    }

    private static void Run()
    {
        var snapshot = new List<ReaderGuard>();
        while (true)
        {
            Thread.Sleep(ReaderGuard.Patience);
            lock (s_lock)
            {
                if (s_readers.Count == 0)
                {
                    s_thread = null;
                    return;
                }
                snapshot.AddRange(s_readers);
            }
            long now = Stopwatch.GetTimestamp();
            foreach (var reader in snapshot)
            {
                try
                {
                    reader.Check(now);
                }
                catch (Exception)
                {
                    // Starting a reader failed (out of threads): the next round tries again.
                }
            }
            snapshot.Clear();
        }
    }
}
