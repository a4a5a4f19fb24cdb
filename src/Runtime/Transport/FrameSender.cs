using WampContracts.Protocol;

namespace WampContracts.Transport;

/// <summary>
/// The single writer of a transport: frames are written one at a time, in the order they were queued, releasing
/// pooled buffers as they go. Used by the client session and by each router session alike.
/// </summary>
/// <remarks>
/// Whoever queues a frame while nobody is writing writes it at once, on its own thread, together with whatever others
/// queue meanwhile; a send that does not complete at once hands the rest over to its continuation. So the transport
/// has one writer at any time, frames stay in order, and a frame costs no hop to another thread. Sending never blocks:
/// a transport whose peer does not read makes its send pending, and frames then wait in the queue.
/// A frame queued by a reader inside its <see cref="SendBatch"/> waits for the batch's end, and a transport that
/// gathers (<see cref="IWampBatchTransport"/>) gets every frame queued meanwhile in one write.
/// </remarks>
internal sealed class FrameSender
{
    private readonly Queue<WampFrame> _queue = new();
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IWampTransport? _transport;
    private CancellationToken _token;
    private bool _writing;
    private bool _completed;
    // The reader's batch this sender's write waits for (see SendBatch); null when none does.
    private SendBatch? _deferredBy;
    private int _queued;
    private long _queuedBytes;

    /// <summary>Frames queued and not yet written.</summary>
    public int QueuedCount => Volatile.Read(ref _queued);

    /// <summary>Bytes of the frames queued and not yet written.</summary>
    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Queues a frame; false (and the frame released) once the sender is completed.</summary>
    public bool TryEnqueue(WampFrame frame)
    {
        lock (_lock)
        {
            if (_completed)
            {
                frame.Release();
                return false;
            }
            _queue.Enqueue(frame);
            _queued++;
            _queuedBytes += frame.Memory.Length;
            // Someone writes already (and takes this frame too), or the writer has not started yet.
            if (_writing || _transport is null) return true;
            // A reader's batch writes it at its end, with whatever else the batch queues here.
            var batch = SendBatch.Current;
            if (batch is not null && ReferenceEquals(_deferredBy, batch)) return true;
            if (batch is not null && _deferredBy is null && batch.TryDefer(this))
            {
                _deferredBy = batch;
                return true;
            }
            _writing = true;
        }
        Write();
        return true;
    }

    /// <summary>The end of the batch that deferred this sender's write: write what is queued, unless someone else does.</summary>
    internal void FlushDeferred(SendBatch batch)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_deferredBy, batch)) _deferredBy = null;
            if (_writing || _transport is null || _queue.Count == 0) return;
            _writing = true;
        }
        Write();
    }

    /// <summary>Stops accepting frames; what is queued is still written, then <see cref="RunAsync"/> returns.</summary>
    public void Complete()
    {
        bool write;
        lock (_lock)
        {
            _completed = true;
            // The writer ends the loop once it has written the rest (or RunAsync starts it and it does).
            if (_writing || (_queue.Count > 0 && _transport is null)) return;
            // Frames left now were deferred by a reader's batch (an ABORT, a GOODBYE): they leave at once, not whenever
            // that batch ends (it may belong to a thread that reads nothing more for a while); its end finds nothing left.
            write = _queue.Count > 0;
            if (write)
            {
                _deferredBy = null;
                _writing = true;
            }
        }
        if (write) Write();
        else _done.TrySetResult();
    }

    /// <summary>
    /// Writes queued frames to <paramref name="transport"/> until <see cref="Complete"/> and the queue is empty (returns
    /// normally), or a send fails or <paramref name="cancellationToken"/> fires (throws). Call it once.
    /// </summary>
    public async Task RunAsync(IWampTransport transport, CancellationToken cancellationToken)
    {
        bool write;
        lock (_lock)
        {
            _transport = transport;
            _token = cancellationToken;
            write = _queue.Count > 0;
            _writing = write;
        }
        using var registration = cancellationToken.UnsafeRegister(static (s, token) => ((FrameSender)s!).Fail(new OperationCanceledException(token)), this);
        if (write) Write();
        await _done.Task.ConfigureAwait(false);
    }

    /// <summary>Writes until the queue is empty or a send goes asynchronous. Only the one writer (see <c>_writing</c>) calls it.</summary>
    private void Write()
    {
        if (_transport is IWampBatchTransport gathering)
        {
            WriteGathered(gathering);
            return;
        }
        while (true)
        {
            WampFrame frame;
            lock (_lock)
            {
                if (_done.Task.IsCompleted || _queue.Count == 0)
                {
                    _writing = false;
                    if (!_completed) return; // more frames may come: whoever queues the next one writes it
                    break;
                }
                frame = _queue.Dequeue();
            }
            ValueTask send;
            try
            {
                // A binary transport sends the frame itself (a payload in its own serializer passes through untouched).
                send = _transport is IWampFrameTransport frames ? frames.SendAsync(frame, _token) : _transport!.SendAsync(frame.Memory, _token);
                if (!send.IsCompleted)
                {
                    _ = WriteAfterAsync(send, frame);
                    return;
                }
                send.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                Sent(frame);
                Fail(e);
                continue; // ends the loop, releasing what is queued
            }
            Sent(frame);
        }
        // Completed and written out, or failed: release what is left (after a failure) and end.
        ReleaseQueued();
        _done.TrySetResult();
    }

    /// <summary>
    /// <see cref="Write"/> for a transport that gathers: every queued frame (up to <see cref="OutputBuffer.MaxPending"/>
    /// bytes) is appended, then one flush writes them all.
    /// </summary>
    private void WriteGathered(IWampBatchTransport transport)
    {
        while (true)
        {
            long appended = 0;
            while (appended < OutputBuffer.MaxPending)
            {
                WampFrame frame;
                lock (_lock)
                {
                    if (_done.Task.IsCompleted || _queue.Count == 0) break;
                    frame = _queue.Dequeue();
                }
                appended += frame.Memory.Length;
                try
                {
                    transport.Append(frame);
                }
                catch (Exception e)
                {
                    Sent(frame);
                    Fail(e);
                    break;
                }
                Sent(frame);
            }
            if (!_done.Task.IsCompleted)
            {
                ValueTask flush;
                try
                {
                    flush = transport.FlushAsync();
                }
                catch (Exception e)
                {
                    flush = ValueTask.FromException(e);
                }
                if (!flush.IsCompletedSuccessfully)
                {
                    _ = WriteGatheredAfterAsync(flush, transport);
                    return;
                }
            }
            lock (_lock)
            {
                if (!_done.Task.IsCompleted && _queue.Count > 0) continue;
                _writing = false;
                if (!_completed && !_done.Task.IsCompleted) return; // more frames may come: whoever queues the next one writes it
            }
            ReleaseQueued();
            _done.TrySetResult();
            return;
        }
    }

    private async Task WriteGatheredAfterAsync(ValueTask flush, IWampBatchTransport transport)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Fail(e);
        }
        WriteGathered(transport); // after a failure: releases what is queued and ends
    }

    private async Task WriteAfterAsync(ValueTask send, WampFrame frame)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Fail(e);
        }
        Sent(frame);
        Write(); // after a failure: releases what is queued and ends
    }

    private void Sent(WampFrame frame)
    {
        lock (_lock)
        {
            _queued--;
            _queuedBytes -= frame.Memory.Length;
        }
        frame.Release();
    }

    private void Fail(Exception error)
    {
        lock (_lock) _completed = true;
        _done.TrySetException(error);
        // A write in progress stops before its next frame and releases the rest; otherwise they are released here.
        ReleaseQueued();
    }

    private void ReleaseQueued()
    {
        List<WampFrame>? released = null;
        lock (_lock)
        {
            if (_writing) return;
            while (_queue.TryDequeue(out var frame))
            {
                _queued--;
                _queuedBytes -= frame.Memory.Length;
                (released ??= []).Add(frame);
            }
        }
        if (released is not null) foreach (var frame in released) frame.Release();
    }
}
