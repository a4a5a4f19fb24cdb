using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;

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

    /// <summary>
    /// How many connections of a process get a reader thread of their own; further ones are read by the thread pool.
    /// Every thread costs each garbage collection a stack to scan, so thousands of them would slow the whole process.
    /// </summary>
    public const int MaxReaderThreads = 64;

    private static int s_reserved;

    /// <summary>Takes one of the <see cref="MaxReaderThreads"/>; false when all are taken. A channel gives its own back when it ends.</summary>
    public static bool TryReserve()
    {
        if (Interlocked.Increment(ref s_reserved) <= MaxReaderThreads) return true;
        Interlocked.Decrement(ref s_reserved);
        return false;
    }

    /// <summary>Gives back a reservation that no channel was made for.</summary>
    public static void Unreserve() => Interlocked.Decrement(ref s_reserved);

    /// <param name="socket">A connected socket; it is made non-blocking and owned from now on. The caller has reserved a reader thread (<see cref="TryReserve"/>), which the channel gives back when it ends.</param>
    public SocketChannel(Socket socket)
    {
        _socket = socket;
        _socket.Blocking = false;
        _socket.NoDelay = true;
    }

    public override bool ReadsOnOwnThread => true;

    /// <summary>The longest a reader spins for the next message before it sleeps in the kernel.</summary>
    internal static readonly long MaxSpin = Stopwatch.Frequency / 10_000; // 100 µs

    // When the last bytes arrived, and the average gap between arrivals (both Stopwatch ticks; reader only).
    private long _lastArrival, _averageGap = long.MaxValue / 2;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
        if (error == SocketError.Success) return new ValueTask<int>(Arrived(n));
        if (error != SocketError.WouldBlock) return ValueTask.FromException<int>(new IOException($"the connection failed: {error}", new SocketException((int)error)));
        SendBatch.End();
        // A read that has to wait, waits on the thread whose loop reads this channel, whichever thread asks: code that
        // runs on another connection's reader (a continuation that opens a connection, say) must not queue this read
        // behind that connection's own wait. Before a reader is bound (a client's handshake), a thread of its own waits.
        if (Reader is { } reader)
        {
            if (ReferenceEquals(ReaderThread.Current, reader) && Spin(buffer) is int spun) return new ValueTask<int>(Arrived(spun));
            // The wait happens at the bottom of the reader's stack, once the read's callers have returned: what they
            // last handled (a 4 MiB message, say) is then no longer reachable from a sleeping thread's frames.
            return (_wait ??= new ReadWait(this)).Start(reader, buffer, cancellationToken);
        }
        return new ValueTask<int>(Task.Factory.StartNew(static s =>
        {
            var (channel, memory, token) = ((SocketChannel, Memory<byte>, CancellationToken))s!;
            return channel.ReadBlocking(memory, token);
        }, (this, buffer, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
    }

    /// <summary>
    /// The reader thread whose loop reads this channel (<see cref="ReaderThread.Start"/>), rebound when another loop
    /// takes the connection over; null until one does.
    /// </summary>
    public ReaderThread? Reader { get; set; }

    private ReadWait? _wait;

    /// <summary>A read that waits on its reader thread's own loop (see <see cref="ReaderThread.Post"/>); one per channel, reused.</summary>
    private sealed class ReadWait(SocketChannel channel) : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core;
        private Memory<byte> _buffer;
        private CancellationToken _token;
        private Action? _run;

        public ValueTask<int> Start(ReaderThread reader, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            _core.Reset();
            _buffer = buffer;
            _token = cancellationToken;
            reader.Post(_run ??= Run);
            return new ValueTask<int>(this, _core.Version);
        }

        private void Run()
        {
            var (buffer, token) = (_buffer, _token);
            _buffer = default;
            _token = default;
            int n;
            try
            {
                n = channel.Arrived(channel.ReadBlocking(buffer, token));
            }
            catch (Exception e)
            {
                _core.SetException(e);
                return;
            }
            // The reader's continuation runs here, on its thread.
            _core.SetResult(n);
        }

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private int Arrived(int n)
    {
        long now = Stopwatch.GetTimestamp();
        long gap = Math.Min(now - _lastArrival, MaxSpin * 16);
        _lastArrival = now;
        _averageGap += (gap - _averageGap) / 8;
        return n;
    }

    /// <summary>
    /// On a connection whose messages come close together (a caller waiting for answers, a callee under a steady
    /// stream of calls), the reader polls for the next one a little before it sleeps: on a virtual machine a sleeping
    /// thread costs tens of microseconds to wake, more than such a gap. It yields the processor between polls, so a
    /// thread with work runs first, and spins at most twice the usual gap and never past <see cref="MaxSpin"/>; a quiet
    /// connection does not spin at all.
    /// </summary>
    private int? Spin(Memory<byte> buffer)
    {
        long budget = Math.Min(MaxSpin, 2 * _averageGap);
        if (budget <= 0 || _averageGap >= MaxSpin) return null;
        long start = Stopwatch.GetTimestamp();
        do
        {
            Thread.Yield();
            int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
            if (error == SocketError.Success) return n;
            if (error != SocketError.WouldBlock) return null; // the blocking read reports it
        }
        while (Stopwatch.GetTimestamp() - start < budget);
        return null;
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
        Unreserve();
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
    /// A connection to <paramref name="host"/>:<paramref name="port"/> read by a thread of its own (see
    /// <see cref="ConnectAsync"/>), or null when the process has none left to give (<see cref="MaxReaderThreads"/>).
    /// </summary>
    public static async Task<SocketChannel?> TryConnectOwnAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!TryReserve()) return null;
        try
        {
            return new SocketChannel(await ConnectAsync(host, port, timeout, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            Unreserve();
            throw;
        }
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
