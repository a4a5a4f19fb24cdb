using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using WampContracts.Serialization;

namespace WampContracts.Transport;

/// <summary>
/// WAMP over RawSocket (plain TCP): after a 4-byte handshake that picks the serializer and tells each side the
/// longest message the other accepts, every message is one frame with a 4-byte header (type: message, PING or PONG;
/// 24-bit length). A PING is answered with a PONG carrying its payload; a PONG is read and dropped.
/// </summary>
public sealed class RawSocketTransport : IWampTransport, IWampFrameTransport
{
    /// <summary>The first byte of both handshakes.</summary>
    public const byte Magic = 0x7F;

    /// <summary>The longest frame RawSocket can carry: 2^24 bytes (16 MiB).</summary>
    public const int MaxFrameLength = 1 << 24;

    /// <summary>Handshake error codes (the router's reply with serializer 0).</summary>
    public const int SerializerUnsupported = 1, MaxLengthUnacceptable = 2, ReservedBitsUsed = 3, ConnectionLimitReached = 4;

    private const int Message = 0, Ping = 1, Pong = 2;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly int _maxReceive;
    private readonly int _maxSend;
    private readonly WampSerializer? _binary;
    // Writes: frames are appended to _pending under _writeLock; one flush loop at a time writes what has gathered, so
    // frames queued while a write is in flight go out together in the next one (as Kestrel's output pipe does for
    // WebSockets). A sender waits for the loop only when more than MaxPending bytes wait.
    private const int MaxPending = 64 * 1024;
    private readonly Lock _writeLock = new();
    private byte[] _pending = new byte[4096];
    private int _pendingLength;
    private byte[] _writing = new byte[4096];
    private bool _flushing;
    private Task _flush = Task.CompletedTask;
    private Exception? _writeFault;
    private readonly byte[] _header = new byte[4];
    private readonly byte[] _in = new byte[8192];
    private int _inStart, _inEnd;
    private byte[] _receiveBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);

    /// <param name="socket">A connected socket whose handshake is done.</param>
    /// <param name="serializer">The serializer the handshake agreed on.</param>
    /// <param name="maxReceive">The longest message this side accepts (what it announced, or less); longer ones are reported oversized.</param>
    /// <param name="maxSend">The longest message the peer accepts (what it announced).</param>
    public RawSocketTransport(Socket socket, WampSerializer serializer, int maxReceive, int maxSend)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxReceive, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSend, 512);
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Serializer = serializer;
        _binary = serializer.IsBinary ? serializer : null;
        _maxReceive = maxReceive;
        _maxSend = Math.Min(maxSend, MaxFrameLength);
    }

    /// <summary>The serializer this connection speaks.</summary>
    public WampSerializer Serializer { get; }

    /// <summary>The longest message the peer accepts.</summary>
    public int MaxSendLength => _maxSend;

    /// <summary>The handshake's length exponent for a limit: the smallest L (0-15) with 2^(9+L) at least <paramref name="maxMessageSize"/>.</summary>
    public static int LengthExponent(int maxMessageSize)
    {
        for (int l = 0; l < 15; l++)
            if (1 << (9 + l) >= maxMessageSize) return l;
        return 15;
    }

    /// <summary>The longest message a handshake's length exponent announces: 2^(9+L).</summary>
    public static int MaxLength(int exponent) => 1 << (9 + exponent);

    /// <summary>
    /// Connects to a RawSocket router at <paramref name="host"/>:<paramref name="port"/> and runs the handshake, offering
    /// the first of <paramref name="serializers"/>; a router that refuses it as unsupported is asked for the next one,
    /// on a new connection.
    /// </summary>
    /// <exception cref="WampConnectionException">The connection failed or timed out, the router refused every
    /// serializer or answered with another error, or sent no RawSocket handshake.</exception>
    public static async Task<RawSocketTransport> ConnectAsync(string host, int port, TimeSpan connectTimeout, int maxMessageSize,
        IReadOnlyList<WampSerializer>? serializers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (serializers is not { Count: > 0 }) serializers = [WampSerializer.Json];
        int exponent = LengthExponent(maxMessageSize);
        var refused = new List<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        foreach (var serializer in serializers)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            bool keep = false;
            try
            {
                await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                byte[] hello = [Magic, (byte)(exponent << 4 | serializer.RawSocketId), 0, 0];
                await socket.SendAsync(hello, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                var reply = new byte[4];
                int read = 0;
                while (read < 4)
                {
                    int n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0) throw new WampConnectionException(WampConnectionException.TransportLost, $"tcp://{host}:{port} closed the connection during the RawSocket handshake.");
                    read += n;
                }
                if (reply[0] != Magic)
                    throw new WampConnectionException(WampConnectionException.TransportLost, $"tcp://{host}:{port} did not answer with a RawSocket handshake (first byte 0x{reply[0]:x2}).");
                int low = reply[1] & 0x0f, high = reply[1] >> 4;
                if (low == 0)
                {
                    if (high == SerializerUnsupported)
                    {
                        refused.Add(serializer.Name);
                        continue;
                    }
                    throw new WampConnectionException(WampConnectionException.TransportLost, $"tcp://{host}:{port} refused the RawSocket handshake: {DescribeError(high)}.");
                }
                if (low != serializer.RawSocketId)
                    throw new WampConnectionException(WampConnectionException.TransportLost, $"tcp://{host}:{port} answered the RawSocket handshake with serializer {low}, not the {serializer.Name} ({serializer.RawSocketId}) offered.");
                keep = true;
                return new RawSocketTransport(socket, serializer, maxMessageSize, MaxLength(high));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WampConnectionException(WampConnectionException.TransportLost,
                    $"Could not connect to tcp://{host}:{port} within {connectTimeout.TotalMilliseconds:0} ms.");
            }
            catch (SocketException e)
            {
                throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to tcp://{host}:{port}: {e.Message}", e);
            }
            finally
            {
                if (!keep) socket.Dispose();
            }
        }
        throw new WampConnectionException(WampConnectionException.TransportLost,
            $"tcp://{host}:{port} supports none of the serializers offered ({string.Join(", ", refused)}).");
    }

    /// <summary>What a handshake error code means.</summary>
    public static string DescribeError(int code) => code switch
    {
        SerializerUnsupported => "serializer unsupported",
        MaxLengthUnacceptable => "maximum message length unacceptable",
        ReservedBitsUsed => "reserved bits used",
        ConnectionLimitReached => "connection limit reached",
        _ => $"error {code}",
    };

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => SendAsync(message, null, cancellationToken);

    ValueTask IWampFrameTransport.SendAsync(Protocol.WampFrame frame, CancellationToken cancellationToken) => SendAsync(frame.Memory, frame.Native, cancellationToken);

    private ValueTask SendAsync(ReadOnlyMemory<byte> message, NativeSplice? native, CancellationToken cancellationToken)
    {
        lock (_writeLock)
        {
            if (_writeFault is { } fault) return ValueTask.FromException(new IOException("the RawSocket connection failed", fault));
            int at = _pendingLength;
            int length;
            if (_binary is null)
            {
                length = message.Length;
                if (_pending.Length - at < 4 + length) Array.Resize(ref _pending, Math.Max(at + 4 + length, _pending.Length * 2));
                message.Span.CopyTo(_pending.AsSpan(at + 4));
            }
            else
            {
                try
                {
                    length = _binary.FromFrame(message.Span, native, ref _pending, at + 4);
                }
                catch (Protocol.WampProtocolException e)
                {
                    return ValueTask.FromException(new IOException($"a message could not be transcoded to {_binary.Name}: {e.Message}", e));
                }
            }
            if (length > _maxSend)
                return ValueTask.FromException(new IOException($"a message of {length} bytes is longer than the {_maxSend} bytes the peer accepts over RawSocket"));
            WriteHeader(_pending.AsSpan(at), Message, length);
            _pendingLength = at + 4 + length;
            return Flush();
        }
    }

    /// <summary>Appends a PONG (under the write lock, like every frame).</summary>
    private ValueTask SendPong(ReadOnlySpan<byte> payload)
    {
        lock (_writeLock)
        {
            if (_writeFault is { } fault) return ValueTask.FromException(new IOException("the RawSocket connection failed", fault));
            int at = _pendingLength;
            if (_pending.Length - at < 4 + payload.Length) Array.Resize(ref _pending, Math.Max(at + 4 + payload.Length, _pending.Length * 2));
            WriteHeader(_pending.AsSpan(at), Pong, payload.Length);
            payload.CopyTo(_pending.AsSpan(at + 4));
            _pendingLength = at + 4 + payload.Length;
            return Flush();
        }
    }

    /// <summary>Under the write lock: starts the flush loop, or leaves the new bytes to the running one.</summary>
    private ValueTask Flush()
    {
        if (!_flushing)
        {
            _flushing = true;
            _flush = FlushLoopAsync();
            return new ValueTask(_flush);
        }
        return _pendingLength <= MaxPending ? ValueTask.CompletedTask : new ValueTask(_flush);
    }

    private async Task FlushLoopAsync()
    {
        try
        {
            while (true)
            {
                int length;
                lock (_writeLock)
                {
                    if (_pendingLength == 0)
                    {
                        _flushing = false;
                        return;
                    }
                    (_pending, _writing) = (_writing, _pending);
                    length = _pendingLength;
                    _pendingLength = 0;
                    // A buffer grown by one huge message is not kept.
                    if (_pending.Length > 1 << 20) _pending = new byte[4096];
                }
                await _stream.WriteAsync(_writing.AsMemory(0, length)).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            lock (_writeLock)
            {
                _writeFault = e;
                _flushing = false;
            }
            throw;
        }
    }

    private static void WriteHeader(Span<byte> header, int type, int length)
    {
        // RRRR X TTT: X is the 25th length bit (set only for exactly 16 MiB), then 24 bits of length.
        header[0] = (byte)(type | (length >= MaxFrameLength ? 0x08 : 0));
        header[1] = (byte)(length >> 16);
        header[2] = (byte)(length >> 8);
        header[3] = (byte)length;
    }

    public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false))
                    return WampReceiveResult.Closed;
                int b0 = _header[0];
                int type = b0 & 0x07;
                if ((b0 & 0xf0) != 0)
                    return WampReceiveResult.Rejected($"a RawSocket frame header with reserved bits set (0x{b0:x2})");
                long length = (long)(b0 & 0x08) << 21 | (long)_header[1] << 16 | (long)_header[2] << 8 | _header[3];
                if (length > MaxFrameLength)
                    return WampReceiveResult.Rejected($"a RawSocket frame length of {length} bytes, past the 16 MiB RawSocket allows");
                switch (type)
                {
                    case Message:
                        return await ReceiveMessageAsync((int)length, cancellationToken).ConfigureAwait(false);
                    case Ping:
                        // Answered with its payload, which is bounded like a message.
                        if (length > _maxReceive)
                            return WampReceiveResult.Rejected($"a RawSocket PING of {length} bytes, longer than the {_maxReceive} bytes accepted");
                        var payload = new byte[length];
                        if (!await ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
                        await SendPong(payload).ConfigureAwait(false);
                        break;
                    case Pong:
                        if (!await DiscardAsync((int)length, cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
                        break;
                    default:
                        return WampReceiveResult.Rejected($"a RawSocket frame of unknown type {type}");
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The connection broke or was aborted: there are no more messages.
            return WampReceiveResult.Closed;
        }
    }

    private async ValueTask<WampReceiveResult> ReceiveMessageAsync(int length, CancellationToken cancellationToken)
    {
        if (length > _maxReceive)
        {
            // Keep the head (enough to name the request), drop the rest as it arrives.
            int keep = Math.Min(length, WebSocketTransport.OversizedPrefixLength);
            var prefix = new byte[keep];
            if (!await ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
            if (!await DiscardAsync(length - keep, cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
            return _binary is null ? WampReceiveResult.Truncated(prefix) : WampReceiveResult.Truncated(_binary.ToJsonHead(prefix));
        }
        if (_binary is null)
        {
            // JSON: read straight into the array the message then keeps.
            var message = new byte[length];
            if (!await ReadExactlyAsync(message, cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
            return WampReceiveResult.Whole(message);
        }
        byte[] buffer = _receiveBuffer.Length >= length ? _receiveBuffer : new byte[length];
        if (!await ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
        return WebSocketTransport.Transcoded(_binary, buffer.AsSpan(0, length), oversized: false);
    }

    private async ValueTask<bool> DiscardAsync(int length, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            int n = Math.Min(length, _receiveBuffer.Length);
            if (!await ReadExactlyAsync(_receiveBuffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false)) return false;
            length -= n;
        }
        return true;
    }

    /// <summary>
    /// Fills <paramref name="buffer"/>; false when the connection ends first (a frame cut short ends the transport).
    /// Reads go through a small buffer, so a run of small frames costs one socket read, not two per frame; what does
    /// not fit in it is read straight into <paramref name="buffer"/>.
    /// </summary>
    private async ValueTask<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = Math.Min(buffer.Length, _inEnd - _inStart);
        _in.AsSpan(_inStart, read).CopyTo(buffer.Span);
        _inStart += read;
        while (read < buffer.Length)
        {
            int missing = buffer.Length - read;
            if (missing >= _in.Length)
            {
                int n = await _stream.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
                if (n == 0) return false;
                read += n;
                continue;
            }
            _inStart = 0;
            _inEnd = await _stream.ReadAsync(_in, cancellationToken).ConfigureAwait(false);
            if (_inEnd == 0) return false;
            int take = Math.Min(missing, _inEnd);
            _in.AsSpan(0, take).CopyTo(buffer.Span[read..]);
            _inStart = take;
            read += take;
        }
        return true;
    }

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        // RawSocket has no close frame: the end of the TCP stream is the close, after what is queued has gone out.
        try
        {
            Task flush;
            lock (_writeLock) flush = _flush;
            await flush.WaitAsync(cancellationToken).ConfigureAwait(false);
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            Abort();
        }
    }

    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        _socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _socket.Dispose();
        var buffer = Interlocked.Exchange(ref _receiveBuffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        return ValueTask.CompletedTask;
    }
}
