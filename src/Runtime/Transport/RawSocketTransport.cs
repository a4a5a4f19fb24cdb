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
public sealed class RawSocketTransport : IWampTransport, IWampFrameTransport, IWampBatchTransport
{
    /// <summary>The first byte of both handshakes.</summary>
    public const byte Magic = 0x7F;

    /// <summary>The longest frame RawSocket can carry: 2^24 bytes (16 MiB).</summary>
    public const int MaxFrameLength = 1 << 24;

    /// <summary>Handshake error codes (the router's reply with serializer 0).</summary>
    public const int SerializerUnsupported = 1, MaxLengthUnacceptable = 2, ReservedBitsUsed = 3, ConnectionLimitReached = 4;

    private const int Message = 0, Ping = 1, Pong = 2;

    private readonly ByteChannel _channel;
    private readonly int _maxReceive;
    private readonly int _maxSend;
    private readonly WampSerializer? _binary;
    // Writes: frames are appended to one buffer and one flush loop at a time writes what has gathered (see OutputBuffer).
    private readonly OutputBuffer _out;
    private readonly byte[] _header = new byte[4];
    private readonly byte[] _in = new byte[8192];
    private int _inStart, _inEnd;
    private byte[] _receiveBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);

    /// <param name="socket">A connected socket whose handshake is done.</param>
    /// <param name="serializer">The serializer the handshake agreed on.</param>
    /// <param name="maxReceive">The longest message this side accepts (what it announced, or less); longer ones are reported oversized.</param>
    /// <param name="maxSend">The longest message the peer accepts (what it announced).</param>
    public RawSocketTransport(Socket socket, WampSerializer serializer, int maxReceive, int maxSend)
        : this(StreamOver(socket), serializer, maxReceive, maxSend)
    {
    }

    private static StreamChannel StreamOver(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        return new StreamChannel(new NetworkStream(socket, ownsSocket: true));
    }

    internal RawSocketTransport(ByteChannel channel, WampSerializer serializer, int maxReceive, int maxSend)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxReceive, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSend, 512);
        _channel = channel;
        _out = new OutputBuffer(channel);
        Serializer = serializer;
        _binary = serializer.IsBinary ? serializer : null;
        _maxReceive = maxReceive;
        _maxSend = Math.Min(maxSend, MaxFrameLength);
    }

    /// <summary>The serializer this connection speaks.</summary>
    public WampSerializer Serializer { get; }

    /// <summary>The longest message the peer accepts.</summary>
    public int MaxSendLength => _maxSend;

    /// <summary>The bytes under the frames.</summary>
    internal ByteChannel Channel => _channel;

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
    public static Task<RawSocketTransport> ConnectAsync(string host, int port, TimeSpan connectTimeout, int maxMessageSize,
        IReadOnlyList<WampSerializer>? serializers, CancellationToken cancellationToken) =>
        ConnectAsync(host, port, connectTimeout, maxMessageSize, serializers, ownReaderThread: false, cancellationToken);

    /// <summary>The same, read by a thread of its own when <paramref name="ownReaderThread"/> (see <see cref="SocketChannel"/>).</summary>
    internal static async Task<RawSocketTransport> ConnectAsync(string host, int port, TimeSpan connectTimeout, int maxMessageSize,
        IReadOnlyList<WampSerializer>? serializers, bool ownReaderThread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (serializers is not { Count: > 0 }) serializers = [WampSerializer.Json];
        int exponent = LengthExponent(maxMessageSize);
        var refused = new List<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        foreach (var serializer in serializers)
        {
            ByteChannel? channel = null;
            try
            {
                if (ownReaderThread) channel = await SocketChannel.TryConnectOwnAsync(host, port, connectTimeout, timeout.Token).ConfigureAwait(false);
                if (channel is null)
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                    channel = StreamOver(socket);
                }
                byte[] hello = [Magic, (byte)(exponent << 4 | serializer.RawSocketId), 0, 0];
                await channel.WriteAsync(hello).ConfigureAwait(false);
                var reply = new byte[4];
                int read = 0;
                while (read < 4)
                {
                    int n = await channel.ReadAsync(reply.AsMemory(read), timeout.Token).ConfigureAwait(false);
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
                var transport = new RawSocketTransport(channel, serializer, maxMessageSize, MaxLength(high));
                channel = null;
                return transport;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WampConnectionException(WampConnectionException.TransportLost,
                    $"Could not connect to tcp://{host}:{port} within {connectTimeout.TotalMilliseconds:0} ms.");
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to tcp://{host}:{port}: {e.Message}", e);
            }
            finally
            {
                channel?.Abort();
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

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => Send(message.Span, null);

    ValueTask IWampFrameTransport.SendAsync(Protocol.WampFrame frame, CancellationToken cancellationToken) => Send(frame.Memory.Span, frame.Native);

    private ValueTask Send(ReadOnlySpan<byte> message, NativeSplice? native)
    {
        try
        {
            Append(message, native);
        }
        catch (IOException e)
        {
            return ValueTask.FromException(e);
        }
        return _out.FlushAsync();
    }

    void IWampBatchTransport.Append(in Protocol.WampFrame frame) => Append(frame.Memory.Span, frame.Native);

    ValueTask IWampBatchTransport.FlushAsync() => _out.FlushAsync();

    private void Append(ReadOnlySpan<byte> message, NativeSplice? native)
    {
        lock (_out.Lock)
        {
            if (_out.Fault is { } fault) throw new IOException("the RawSocket connection failed", fault);
            int at = _out.Length;
            int length;
            if (_binary is null)
            {
                length = message.Length;
                _out.Reserve(4 + length);
                message.CopyTo(_out.Buffer.AsSpan(at + 4));
            }
            else
            {
                _out.Reserve(4 + message.Length);
                try
                {
                    length = _binary.FromFrame(message, native, ref _out.Buffer, at + 4);
                }
                catch (Protocol.WampProtocolException e)
                {
                    throw new IOException($"a message could not be transcoded to {_binary.Name}: {e.Message}", e);
                }
            }
            if (length > _maxSend)
                throw new IOException($"a message of {length} bytes is longer than the {_maxSend} bytes the peer accepts over RawSocket");
            WriteHeader(_out.Buffer.AsSpan(at), Message, length);
            _out.Length = at + 4 + length;
        }
    }

    /// <summary>Appends a PONG and flushes it.</summary>
    private ValueTask SendPong(ReadOnlySpan<byte> payload)
    {
        lock (_out.Lock)
        {
            if (_out.Fault is { } fault) return ValueTask.FromException(new IOException("the RawSocket connection failed", fault));
            int at = _out.Length;
            _out.Reserve(4 + payload.Length);
            WriteHeader(_out.Buffer.AsSpan(at), Pong, payload.Length);
            payload.CopyTo(_out.Buffer.AsSpan(at + 4));
            _out.Length = at + 4 + payload.Length;
        }
        return _out.FlushAsync();
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
                int n = await _channel.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
                if (n == 0) return false;
                read += n;
                continue;
            }
            _inStart = 0;
            _inEnd = await _channel.ReadAsync(_in, cancellationToken).ConfigureAwait(false);
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
            await _out.Pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            _out.ShutdownWhenWritten();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            Abort();
        }
    }

    public void Abort() => _channel.Abort();

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync().ConfigureAwait(false);
        var buffer = Interlocked.Exchange(ref _receiveBuffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
