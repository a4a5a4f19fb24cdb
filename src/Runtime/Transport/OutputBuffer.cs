using System.Buffers;
using System.Numerics;

namespace WampContracts.Transport;

/// <summary>
/// Gathers a stream transport's frames into one write: frames are appended under <see cref="Lock"/>, and one flush
/// loop at a time writes everything appended so far in a single write, so frames appended while a write is in flight
/// go out together in the next one. Buffers are pooled and given back once everything is written, so an idle
/// connection holds none.
/// </summary>
internal sealed class OutputBuffer(ByteChannel channel)
{
    /// <summary>What a writer may append before it waits for the flush loop.</summary>
    public const int MaxPending = 64 * 1024;

    private const int InitialSize = 4096;

    /// <summary>Guards <see cref="Buffer"/>, <see cref="Length"/> and the flush state.</summary>
    public readonly Lock Lock = new();

    /// <summary>The bytes appended and not yet handed to a write (under <see cref="Lock"/>).</summary>
    public byte[] Buffer = [];

    /// <summary>How many bytes of <see cref="Buffer"/> are appended (under <see cref="Lock"/>).</summary>
    public int Length;

    private byte[] _writing = [];
    private bool _flushing;
    private Task _flush = Task.CompletedTask;
    private Exception? _fault;
    private bool _shutdownRequested;

    /// <summary>Under <see cref="Lock"/>: the write that failed, if one did (later writes fail with it).</summary>
    public Exception? Fault => _fault;

    /// <summary>Under <see cref="Lock"/>: makes room for <paramref name="count"/> more bytes after <see cref="Length"/>.</summary>
    public void Reserve(int count)
    {
        if (Buffer.Length - Length >= count) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(InitialSize, Length + count));
        Buffer.AsSpan(0, Length).CopyTo(bigger);
        Return(Buffer);
        Buffer = bigger;
    }

    /// <summary>
    /// Writes what was appended. Completes at once when the operating system took it all; otherwise when the flush
    /// loop has written everything (including what others append meanwhile), or fails.
    /// </summary>
    public ValueTask FlushAsync()
    {
        lock (Lock)
        {
            if (_fault is { } fault) return ValueTask.FromException(new IOException($"the connection failed: {fault.Message}", fault));
            if (_flushing) return Length <= MaxPending ? ValueTask.CompletedTask : new ValueTask(_flush);
            if (Length == 0) return ValueTask.CompletedTask;
            _flushing = true;
        }
        // The first write goes out on this thread; only one the kernel cannot take at once continues elsewhere.
        while (true)
        {
            int length;
            lock (Lock)
            {
                if (Length == 0)
                {
                    _flushing = false;
                    ReleaseIdle();
                    if (_shutdownRequested) ShutdownNow();
                    return ValueTask.CompletedTask;
                }
                (Buffer, _writing) = (_writing, Buffer);
                length = Length;
                Length = 0;
            }
            ValueTask write;
            try
            {
                write = channel.WriteAsync(_writing.AsMemory(0, length));
            }
            catch (Exception e)
            {
                write = ValueTask.FromException(e);
            }
            if (!write.IsCompletedSuccessfully)
            {
                var task = FlushAfterAsync(write);
                lock (Lock) if (_flushing) _flush = task;
                return new ValueTask(task);
            }
        }
    }

    private async Task FlushAfterAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
            while (true)
            {
                int length;
                lock (Lock)
                {
                    if (Length == 0)
                    {
                        _flushing = false;
                        ReleaseIdle();
                        if (_shutdownRequested) ShutdownNow();
                        return;
                    }
                    (Buffer, _writing) = (_writing, Buffer);
                    length = Length;
                    Length = 0;
                }
                await channel.WriteAsync(_writing.AsMemory(0, length)).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            lock (Lock)
            {
                _fault = e;
                _flushing = false;
            }
            throw;
        }
    }

    /// <summary>Ends the sending direction once everything appended so far is written (at once when nothing is).</summary>
    public void ShutdownWhenWritten()
    {
        lock (Lock)
        {
            if (_flushing || Length > 0)
            {
                _shutdownRequested = true;
                return;
            }
        }
        ShutdownNow();
    }

    private void ShutdownNow()
    {
        try
        {
            channel.ShutdownSend();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>The flush in progress (or a completed task): what a graceful close waits for.</summary>
    public Task Pending
    {
        get
        {
            lock (Lock) return _flushing ? _flush : Task.CompletedTask;
        }
    }

    /// <summary>Under <see cref="Lock"/>, with nothing appended or in flight: both buffers go back to the pool.</summary>
    private void ReleaseIdle()
    {
        Return(Buffer);
        Return(_writing);
        Buffer = [];
        _writing = [];
    }

    private static void Return(byte[] array)
    {
        // Only pool-shaped arrays go back (a serializer may have grown one to any size); huge ones are left to the GC.
        if (array.Length >= InitialSize && array.Length <= 1 << 20 && BitOperations.IsPow2(array.Length))
            ArrayPool<byte>.Shared.Return(array);
    }
}
