using System.Net.Sockets;

namespace WampContracts.Transport;

/// <summary>
/// The bytes under a stream transport (WebSocket framing, RawSocket): reads, writes and teardown, over a socket that
/// its own reader thread waits on (<see cref="SocketChannel"/>) or over any <see cref="Stream"/> (TLS, a server's
/// upgraded HTTP connection).
/// </summary>
internal abstract class ByteChannel
{
    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>; 0 at the end of the stream. Before it waits for the peer
    /// it ends the calling thread's <see cref="SendBatch"/>, so what the thread deferred goes out first.
    /// </summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until bytes can be read without holding a buffer meanwhile (a zero-byte read), so an idle connection
    /// holds none; false when a channel cannot wait without a buffer (the caller then reads into one).
    /// </summary>
    public abstract ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken);

    /// <summary>Writes all of <paramref name="data"/>; completes at once when the operating system took it all.</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data);

    /// <summary>Ends the sending direction after what was written (the peer reads the end of the stream).</summary>
    public abstract void ShutdownSend();

    /// <summary>Tears the connection down at once: a read or write in progress fails or ends.</summary>
    public abstract void Abort();

    /// <summary>Releases the connection.</summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>Whether reads block the calling thread (a socket its own reader thread waits on).</summary>
    public virtual bool ReadsOnOwnThread => false;
}

/// <summary>Any stream: reads and writes are the stream's own asynchronous ones.</summary>
internal sealed class StreamChannel(Stream stream, Action? abort = null) : ByteChannel
{
    private int _aborted;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = stream.ReadAsync(buffer, cancellationToken);
        if (!read.IsCompleted) SendBatch.End();
        return read;
    }

    public override async ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        var wait = stream.ReadAsync(Memory<byte>.Empty, cancellationToken);
        if (!wait.IsCompleted) SendBatch.End();
        await wait.ConfigureAwait(false);
        return true;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data) => stream.WriteAsync(data);

    public override void ShutdownSend()
    {
        if (stream is NetworkStream network) network.Socket.Shutdown(SocketShutdown.Send);
    }

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        try
        {
            if (abort is not null) abort();
            else if (stream is NetworkStream network) Linger(network.Socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone.
        }
        stream.Dispose();
    }

    public override async ValueTask DisposeAsync() => await stream.DisposeAsync().ConfigureAwait(false);

    /// <summary>A reset instead of a graceful close: nothing queued is sent after an abort.</summary>
    internal static void Linger(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Shutdown(SocketShutdown.Both);
    }
}

/// <summary>
/// A connected socket in non-blocking mode that is never used asynchronously: its reader thread waits for data with
/// poll(2) and is woken by the kernel itself, with no event thread or thread pool in between (one wake-up per message
/// where the asynchronous path takes two). Writes are non-blocking; a write the kernel cannot take at once is finished
/// by a thread that waits for the socket to drain, so no writer ever blocks on a peer that does not read.
/// </summary>
/// <remarks>
/// Nothing here may start an asynchronous socket operation: it would register the socket with the runtime's event
/// thread, which would then wake for every arriving message with nothing to do.
/// </remarks>
internal sealed class SocketChannel : ByteChannel
{
    /// <summary>The longest a wait sleeps before it looks at its cancellation token again.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(250);

    private readonly Socket _socket;
    private int _aborted;

    /// <param name="socket">A connected socket; it is made non-blocking and owned from now on.</param>
    public SocketChannel(Socket socket)
    {
        _socket = socket;
        _socket.Blocking = false;
        _socket.NoDelay = true;
    }

    public override bool ReadsOnOwnThread => true;

    /// <summary>
    /// The calling thread may block in reads: it is a connection's own reader thread. Other threads (a handshake on
    /// the thread pool) hand a read that has to wait to a thread of its own.
    /// </summary>
    [ThreadStatic] internal static bool t_mayBlock;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
        if (error == SocketError.Success) return new ValueTask<int>(n);
        if (error != SocketError.WouldBlock) return ValueTask.FromException<int>(new IOException($"the connection failed: {error}", new SocketException((int)error)));
        SendBatch.End();
        if (t_mayBlock)
        {
            try
            {
                return new ValueTask<int>(ReadBlocking(buffer, cancellationToken));
            }
            catch (Exception e)
            {
                return ValueTask.FromException<int>(e);
            }
        }
        return new ValueTask<int>(Task.Factory.StartNew(static s =>
        {
            var (channel, memory, token) = ((SocketChannel, Memory<byte>, CancellationToken))s!;
            return channel.ReadBlocking(memory, token);
        }, (this, buffer, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    }

    private int ReadBlocking(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Volatile.Read(ref _aborted) != 0) throw new IOException("the connection was aborted");
            // poll(2) returns for data, for the end of the stream and for an error alike; Receive then tells which.
            if (!Poll(SelectMode.SelectRead)) continue;
            int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
            if (error == SocketError.Success) return n;
            if (error != SocketError.WouldBlock) throw new IOException($"the connection failed: {error}", new SocketException((int)error));
        }
    }

    private bool Poll(SelectMode mode)
    {
        try
        {
            return _socket.Poll(Slice, mode);
        }
        catch (ObjectDisposedException)
        {
            throw new IOException("the connection was aborted");
        }
    }

    public override ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken) => new(false);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            int n = _socket.Send(data.Span[sent..], SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock) return new ValueTask(Task.Run(() => WriteBlocking(data[sent..])));
            if (error != SocketError.Success) return ValueTask.FromException(new IOException($"the connection failed: {error}", new SocketException((int)error)));
            sent += n;
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The rest of a write the kernel could not take at once, sent as the socket drains (bounded by the connection's life).</summary>
    private void WriteBlocking(ReadOnlyMemory<byte> data)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            if (Volatile.Read(ref _aborted) != 0) throw new IOException("the connection was aborted");
            if (!Poll(SelectMode.SelectWrite)) continue;
            int n = _socket.Send(data.Span[sent..], SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock) continue;
            if (error != SocketError.Success) throw new IOException($"the connection failed: {error}", new SocketException((int)error));
            sent += n;
        }
    }

    public override void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        try
        {
            // shutdown(2) wakes a reader in poll(2); closing the descriptor alone would not.
            StreamChannel.Linger(_socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        _socket.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/> without any asynchronous socket operation (see the
    /// class remarks): each address in turn, a non-blocking connect and poll(2) for its completion, on a thread of its own.
    /// </summary>
    public static async Task<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = System.Net.IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0) throw new SocketException((int)SocketError.HostNotFound);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        return await Task.Factory.StartNew(() =>
        {
            SocketException? last = null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
                try
                {
                    try
                    {
                        socket.Connect(address, port);
                        return socket;
                    }
                    catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
                    {
                        // Completes in the background: wait for the socket to become writable, or fail.
                    }
                    while (true)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        long left = deadline - Environment.TickCount64;
                        if (left <= 0) throw new OperationCanceledException("connect timed out");
                        if (socket.Poll(TimeSpan.FromMilliseconds(Math.Min(left, (long)Slice.TotalMilliseconds)), SelectMode.SelectWrite) ||
                            socket.Poll(0, SelectMode.SelectError))
                            break;
                    }
                    int error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                    if (error != 0) throw new SocketException(error);
                    return socket;
                }
                catch (SocketException e)
                {
                    last = e;
                    socket.Dispose();
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            throw last!;
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }
}
