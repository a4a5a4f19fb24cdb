using System.Threading.Channels;
using WampContracts.Protocol;

namespace WampContracts.Transport;

/// <summary>
/// The single writer of a transport: senders queue frames without waiting, one loop writes them back to back,
/// releasing pooled buffers as it goes. Used by the client session and by each router session alike.
/// </summary>
internal sealed class FrameSender
{
    private readonly Channel<WampFrame> _queue = Channel.CreateUnbounded<WampFrame>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private int _queued;
    private long _queuedBytes;

    /// <summary>Frames queued and not yet written.</summary>
    public int QueuedCount => Volatile.Read(ref _queued);

    /// <summary>Bytes of the frames queued and not yet written.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Queues a frame; false (and the frame released) once the sender is completed.</summary>
    public bool TryEnqueue(WampFrame frame)
    {
        // Counted before the write, so the writer loop can never take the count below zero.
        Interlocked.Increment(ref _queued);
        Interlocked.Add(ref _queuedBytes, frame.Memory.Length);
        if (_queue.Writer.TryWrite(frame)) return true;
        Interlocked.Decrement(ref _queued);
        Interlocked.Add(ref _queuedBytes, -frame.Memory.Length);
        frame.Release();
        return false;
    }

    /// <summary>Stops accepting frames; the loop writes what is queued, then ends.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes queued frames until <see cref="Complete"/> (returns normally) or a send fails (throws).</summary>
    public async Task RunAsync(IWampTransport transport, CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Drain everything queued before waiting again.
                while (reader.TryRead(out var frame))
                {
                    Interlocked.Decrement(ref _queued);
                    Interlocked.Add(ref _queuedBytes, -frame.Memory.Length);
                    try
                    {
                        await (transport is IWampFrameTransport frames ? frames.SendAsync(frame, cancellationToken) : transport.SendAsync(frame.Memory, cancellationToken)).ConfigureAwait(false);
                    }
                    finally
                    {
                        frame.Release();
                    }
                }
            }
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (reader.TryRead(out var frame))
            {
                Interlocked.Decrement(ref _queued);
                Interlocked.Add(ref _queuedBytes, -frame.Memory.Length);
                frame.Release();
            }
        }
    }
}
