namespace WampContracts.Transport;

/// <summary>
/// Defers the writes a reader causes while it handles what one read brought, so they leave in one write per
/// connection instead of one per message: a router answering 64 calls that arrived together, or a caller whose
/// continuations send the next 64 calls, writes each peer once. A reader <see cref="Begin"/>s its batch after each
/// read; any <see cref="FrameSender"/> the same thread queues a frame on while nobody writes it waits in the batch
/// instead of writing at once; and the batch is <see cref="End"/>ed (its senders flushed) before the thread waits
/// for more bytes (<see cref="ByteChannel"/> does that) or leaves the reader.
/// </summary>
/// <remarks>
/// A batch belongs to the thread that began it, and nothing in it outlives that thread's synchronous run: it is ended
/// before every wait, so a continuation elsewhere never finds it. Another thread may end it (<see cref="Steal"/>)
/// when the reader is stuck in code that does not return; frames it queues afterwards are written at once.
/// </remarks>
internal sealed class SendBatch
{
    [ThreadStatic] private static SendBatch? t_current;

    private readonly Lock _lock = new();
    private List<FrameSender> _deferred = [];
    private List<FrameSender>? _spare = [];
    private bool _stolen;

    /// <summary>The batch the calling thread is in, if any.</summary>
    public static SendBatch? Current => t_current;

    [ThreadStatic] private static SendBatch? t_own;

    /// <summary>
    /// A batch kept by the calling thread for readers that never need another to end it (the router's): as a thread
    /// runs one reader at a time, one batch per thread serves them all.
    /// </summary>
    public static SendBatch OfThisThread() => t_own ??= new SendBatch();

    /// <summary>Makes <paramref name="batch"/> the calling thread's batch (a reader, after each read).</summary>
    public static void Begin(SendBatch batch) => t_current = batch;

    /// <summary>Flushes and leaves the calling thread's batch, if it is in one.</summary>
    public static void End()
    {
        var batch = t_current;
        if (batch is null) return;
        t_current = null;
        batch.Flush();
    }

    /// <summary>Takes <paramref name="sender"/>'s write for later; false once the batch was stolen (write now).</summary>
    public bool TryDefer(FrameSender sender)
    {
        lock (_lock)
        {
            if (_stolen) return false;
            _deferred.Add(sender);
            return true;
        }
    }

    /// <summary>Writes what every deferred sender holds.</summary>
    public void Flush()
    {
        List<FrameSender> senders;
        lock (_lock)
        {
            if (_deferred.Count == 0) return;
            senders = _deferred;
            _deferred = _spare ?? [];
            _spare = null;
        }
        foreach (var sender in senders) sender.FlushDeferred(this);
        senders.Clear();
        lock (_lock) _spare ??= senders;
    }

    /// <summary>From another thread: the owner is stuck; flush what it deferred, and defer nothing from now on.</summary>
    public void Steal()
    {
        lock (_lock) _stolen = true;
        Flush();
    }
}
