using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using WampContracts.Serialization;
using static WampContracts.Transport.WebSocketFraming;

namespace WampContracts.Transport;

/// <summary>
/// WAMP over a WebSocket whose framing (RFC 6455) is done here, on the client and in the router alike: one text
/// message per WAMP message with <c>wamp.2.json</c>, one binary message with <c>wamp.2.msgpack</c> or <c>wamp.2.cbor</c>
/// (transcoded to and from JSON at this edge, see <see cref="WampSerializer"/>).
/// </summary>
/// <remarks>
/// Why not <see cref="System.Net.WebSockets.WebSocket"/>: it writes every message with its own write (and system
/// call), where this transport gathers every frame queued meanwhile into one (<see cref="OutputBuffer"/>); it reads
/// a message through several calls, where this one parses every message one read brought from one buffer; and it
/// draws each masking key from the system's generator. Reading: a pooled buffer, held only while bytes are in flight
/// when the channel can wait without one (the router's connections); a message is copied out of it (JSON) or
/// transcoded from it (binary). Limits: a message larger than the limit is read past (its first bytes kept to name
/// the request); control frames, reserved bits, masking and fragmentation follow the RFC, and a violation is a
/// rejection (the session ends with ABORT). Text is not checked for UTF-8 here: the WAMP parser refuses a message
/// that is not.
/// </remarks>
internal sealed class WebSocketConnection : IWampTransport, IWampFrameTransport, IWampBatchTransport
{
    private const int ReceiveBufferSize = 16 * 1024;

    private readonly ByteChannel _channel;
    private readonly bool _client;
    private readonly int _maxMessageSize;
    private readonly WampSerializer? _binary;
    private readonly int _dataOpcode;
    private readonly OutputBuffer _out;

    // Receiving: only the reader touches these.
    private byte[] _in;
    private int _inStart, _inEnd;
    private bool _holdBuffer;
    // The frame whose payload is being read, when it did not arrive whole.
    private long _frameRemaining;
    private uint _frameMask;
    private int _frameMaskOffset;
    private bool _frameFinal;
    // A message assembled from several frames (or one frame longer than what one read brings).
    private bool _assembling;
    private byte[] _message = [];
    private long _messageLength;
    private bool _oversized;
    private bool _broken;

    // Closing and keepalive.
    private int _closeSent;
    private volatile bool _closeReceived;
    private ITimer? _keepAlive;
    private readonly TimeSpan _keepAliveInterval, _keepAliveTimeout;
    private readonly TimeProvider _time;
    private long _lastReceived;
    private long _pingSent;

    /// <param name="channel">The bytes after the HTTP upgrade.</param>
    /// <param name="client">This side is the client: it masks what it sends, and refuses masked frames.</param>
    /// <param name="serializer">The serializer of the negotiated subprotocol.</param>
    /// <param name="maxMessageSize">Larger incoming messages are read past their first bytes and reported as oversized.</param>
    /// <param name="keepAliveInterval">After this long without a frame from the peer, a PING goes out (zero or infinite: never).</param>
    /// <param name="keepAliveTimeout">A peer that sends nothing this long after a PING is dropped (zero or infinite: never).</param>
    /// <param name="initial">Bytes the handshake read past its end (the first frames).</param>
    public WebSocketConnection(ByteChannel channel, bool client, WampSerializer serializer, int maxMessageSize,
        TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, ReadOnlySpan<byte> initial = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 64);
        _channel = channel;
        _client = client;
        _maxMessageSize = maxMessageSize;
        Serializer = serializer;
        _binary = serializer.IsBinary ? serializer : null;
        _dataOpcode = _binary is null ? Text : Binary;
        _out = new OutputBuffer(channel);
        // A connection read by its own thread keeps its buffer (it has one reader and few peers); one that can wait for
        // data without a buffer gives it back whenever everything is read, so an idle connection holds none.
        _holdBuffer = channel.ReadsOnOwnThread;
        _in = initial.IsEmpty && !_holdBuffer ? [] : ArrayPool<byte>.Shared.Rent(Math.Max(ReceiveBufferSize, initial.Length));
        initial.CopyTo(_in);
        _inEnd = initial.Length;
        // Keepalive runs on the real clock whatever clock the session's timers use: a test's fake clock that jumps ahead
        // must not make a live peer look dead.
        _time = TimeProvider.System;
        _keepAliveInterval = keepAliveInterval;
        _keepAliveTimeout = keepAliveTimeout;
        _lastReceived = _time.GetTimestamp();
        if (keepAliveInterval > TimeSpan.Zero && keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            var smaller = keepAliveTimeout > TimeSpan.Zero && keepAliveTimeout != Timeout.InfiniteTimeSpan && keepAliveTimeout < keepAliveInterval
                ? keepAliveTimeout : keepAliveInterval;
            var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, smaller.Ticks / 4));
            _keepAlive = _time.CreateTimer(static s => ((WebSocketConnection)s!).KeepAliveTick(), this, tick, tick);
        }
    }

    /// <summary>The serializer this connection speaks.</summary>
    public WampSerializer Serializer { get; }

    /// <summary>Whether reads block the thread that calls them (see <see cref="SocketChannel"/>).</summary>
    public bool ReadsOnOwnThread => _channel.ReadsOnOwnThread;

    /// <summary>The bytes under the frames.</summary>
    internal ByteChannel Channel => _channel;

    // ---------------------------------------------------------------- receiving

    /// <summary>
    /// When set, a text message that arrived whole in one frame is handed out in place, in the receive buffer, instead
    /// of in an array of its own: it stays valid until the next <see cref="ReceiveAsync"/> only. For a reader that is
    /// done with each message before it asks for the next and copies what it keeps (the router's session loop).
    /// </summary>
    internal bool LendsMessages { get; set; }

#if DEBUG
    // The lent message's place in the buffer: overwritten at the next receive, so code that kept it fails its tests.
    private int _lentStart, _lentLength;
#endif

    public ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
    {
#if DEBUG
        if (_lentLength > 0)
        {
            _in.AsSpan(_lentStart, _lentLength).Fill((byte)'~');
            _lentLength = 0;
        }
#endif
        if (TryReadMessage(out var result)) return new ValueTask<WampReceiveResult>(result);
        return ReceiveMoreAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WampReceiveResult> ReceiveMoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (!await FillAsync(cancellationToken).ConfigureAwait(false)) return WampReceiveResult.Closed;
                if (TryReadMessage(out var result)) return result;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The connection broke or was aborted: there are no more messages.
            return WampReceiveResult.Closed;
        }
    }

    /// <summary>Reads more bytes into the receive buffer; false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_inStart == _inEnd)
        {
            _inStart = _inEnd = 0;
            // Nothing half-read: wait without a buffer where the channel can.
            if (!_holdBuffer && _in.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_in);
                _in = [];
            }
            if (_in.Length == 0 && !await _channel.WaitForDataAsync(cancellationToken).ConfigureAwait(false)) _holdBuffer = true;
        }
        if (_in.Length == 0) _in = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        if (_inEnd == _in.Length)
        {
            // What is left is the start of a header or a control frame (payloads are consumed as they come): move it to the front.
            _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
            _inEnd -= _inStart;
            _inStart = 0;
        }
        int n = await _channel.ReadAsync(_in.AsMemory(_inEnd), cancellationToken).ConfigureAwait(false);
        if (n == 0) return false;
        _inEnd += n;
        Volatile.Write(ref _lastReceived, _time.GetTimestamp());
        return true;
    }

    /// <summary>The next whole message from what is buffered; false when more bytes are needed.</summary>
    private bool TryReadMessage(out WampReceiveResult result)
    {
        result = default;
        while (true)
        {
            if (_broken || _closeReceived)
            {
                result = WampReceiveResult.Closed;
                return true;
            }
            if (_frameRemaining > 0)
            {
                if (!ConsumePayload()) return false;
                if (!_frameFinal) continue;
                result = FinishMessage();
                return true;
            }

            var span = _in.AsSpan(_inStart, _inEnd - _inStart);
            if (span.Length < 2) return false;
            byte b0 = span[0], b1 = span[1];
            bool final = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
            int opcode = b0 & 0x0F, length7 = b1 & 0x7F;
            int headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
            if (span.Length < headerLength) return false;
            if ((b0 & 0x70) != 0) return Reject("a WebSocket frame with reserved bits set (no extension was negotiated)", out result);
            if (masked == _client)
                return Reject(_client ? "a masked WebSocket frame from the server" : "an unmasked WebSocket frame from the client", out result);
            long length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(span[2..]),
                127 => (long)BinaryPrimitives.ReadUInt64BigEndian(span[2..]),
                _ => length7,
            };
            if (length < 0) return Reject("a WebSocket frame length with its most significant bit set", out result);
            uint mask = masked ? BinaryPrimitives.ReadUInt32LittleEndian(span[(headerLength - 4)..]) : 0;

            if (opcode >= Close)
            {
                if (!final || length > MaxControlPayload)
                    return Reject("a fragmented or over-long WebSocket control frame", out result);
                if (span.Length < headerLength + length) return false;
                var payload = span.Slice(headerLength, (int)length);
                if (masked) Mask(payload, mask, 0);
                _inStart += headerLength + (int)length;
                switch (opcode)
                {
                    case Ping:
                        SendControl(Pong, payload);
                        continue;
                    case Pong:
                        continue;
                    case Close:
                        OnCloseReceived(payload);
                        result = WampReceiveResult.Closed;
                        return true;
                    default:
                        return Reject($"a WebSocket frame with the reserved opcode 0x{opcode:x}", out result);
                }
            }
            if (opcode == Continuation)
            {
                if (!_assembling) return Reject("a WebSocket continuation frame with no message to continue", out result);
            }
            else if (opcode is Text or Binary)
            {
                if (_assembling) return Reject("a new WebSocket message before the previous one ended", out result);
                if (opcode != _dataOpcode)
                    return Reject(_binary is null
                        ? $"a binary WebSocket message on '{WebSocketTransport.JsonSubprotocol}', which carries text messages only"
                        : $"a text WebSocket message on '{_binary.Subprotocol}', which carries binary messages only", out result);
                // The common case: one whole frame in the buffer, read in place.
                if (final && length <= span.Length - headerLength && length <= _maxMessageSize)
                {
                    var payload = span.Slice(headerLength, (int)length);
                    if (masked) Mask(payload, mask, 0);
                    int start = _inStart + headerLength;
                    _inStart += headerLength + (int)length;
                    if (_binary is not null)
                        result = WebSocketTransport.Transcoded(_binary, payload, oversized: false);
                    else if (!LendsMessages)
                        result = WampReceiveResult.Whole(payload.ToArray());
                    else
                    {
                        result = WampReceiveResult.Whole(_in.AsMemory(start, (int)length));
#if DEBUG
                        (_lentStart, _lentLength) = (start, (int)length);
#endif
                    }
                    return true;
                }
                _assembling = true;
                _messageLength = 0;
                _oversized = false;
                // A whole message in one frame gets its array at once (within the limit); fragments grow one.
                if (final && length <= _maxMessageSize) _message = GC.AllocateUninitializedArray<byte>((int)length);
            }
            else
            {
                return Reject($"a WebSocket frame with the reserved opcode 0x{opcode:x}", out result);
            }
            _inStart += headerLength;
            _frameRemaining = length;
            _frameMask = mask;
            _frameMaskOffset = 0;
            _frameFinal = final;
            if (length == 0)
            {
                if (!final) continue;
                result = FinishMessage();
                return true;
            }
        }
    }

    /// <summary>Moves the buffered part of the current frame's payload into the message; true once the frame is whole.</summary>
    private bool ConsumePayload()
    {
        int take = (int)Math.Min(_frameRemaining, _inEnd - _inStart);
        if (take == 0) return false;
        var chunk = _in.AsSpan(_inStart, take);
        if (_client is false) Mask(chunk, _frameMask, _frameMaskOffset);
        _frameMaskOffset = (_frameMaskOffset + take) & 3;
        long after = _messageLength + take;
        if (!_oversized && after > _maxMessageSize) _oversized = true;
        // Past the limit only the head is kept (to name the request); the rest is read and dropped.
        int keep = _oversized ? (int)Math.Max(0, Math.Min(take, WebSocketTransport.OversizedPrefixLength - _messageLength)) : take;
        if (keep > 0)
        {
            long needed = _messageLength + keep;
            if (_message.Length < needed)
            {
                long size = Math.Max(needed, Math.Min(Math.Max(_message.Length * 2L, 4096), Math.Max(_maxMessageSize, WebSocketTransport.OversizedPrefixLength)));
                var bigger = GC.AllocateUninitializedArray<byte>((int)size);
                _message.AsSpan(0, (int)_messageLength).CopyTo(bigger);
                _message = bigger;
            }
            chunk[..keep].CopyTo(_message.AsSpan((int)_messageLength));
        }
        _messageLength = _oversized ? Math.Min(_messageLength + keep, WebSocketTransport.OversizedPrefixLength) : after;
        _inStart += take;
        _frameRemaining -= take;
        return _frameRemaining == 0;
    }

    private WampReceiveResult FinishMessage()
    {
        _assembling = false;
        var message = _message;
        int length = (int)_messageLength;
        bool oversized = _oversized;
        // The message keeps its array; a huge one is not kept for the next.
        _message = [];
        _messageLength = 0;
        if (_binary is not null) return WebSocketTransport.Transcoded(_binary, message.AsSpan(0, length), oversized);
        if (oversized) return WampReceiveResult.Truncated(message.AsMemory(0, length));
        return WampReceiveResult.Whole(message.AsMemory(0, length));
    }

    private bool Reject(string reason, out WampReceiveResult result)
    {
        // The stream can no longer be read frame by frame: this is the last message.
        _broken = true;
        result = WampReceiveResult.Rejected(reason);
        return true;
    }

    private void OnCloseReceived(ReadOnlySpan<byte> payload)
    {
        _closeReceived = true;
        // Echo the peer's status (RFC 6455 §5.5.1) unless this side closed first.
        Span<byte> reply = stackalloc byte[2];
        ushort code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : NormalClosure;
        if (code is < 1000 or 1004 or 1005 or 1006 or (> 1014 and < 3000) or > 4999) code = ProtocolError;
        BinaryPrimitives.WriteUInt16BigEndian(reply, code);
        if (Interlocked.Exchange(ref _closeSent, 1) == 0) SendControl(Close, reply);
        // Both closes are exchanged: the TCP stream ends once they are written.
        _out.ShutdownWhenWritten();
    }

    // ---------------------------------------------------------------- sending

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        try
        {
            Append(message.Span, null);
        }
        catch (IOException e)
        {
            return ValueTask.FromException(e);
        }
        return _out.FlushAsync();
    }

    ValueTask IWampFrameTransport.SendAsync(Protocol.WampFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            Append(frame);
        }
        catch (IOException e)
        {
            return ValueTask.FromException(e);
        }
        return _out.FlushAsync();
    }

    public void Append(in Protocol.WampFrame frame) => Append(frame.Memory.Span, frame.Native);

    public ValueTask FlushAsync() => _out.FlushAsync();

    private void Append(ReadOnlySpan<byte> json, NativeSplice? native)
    {
        lock (_out.Lock)
        {
            if (_out.Fault is { } fault) throw new IOException($"the connection failed: {fault.Message}", fault);
            if (Volatile.Read(ref _closeSent) != 0) throw new IOException("the WebSocket is closing");
            uint? mask = _client ? NewMaskKey() : null;
            int at = _out.Length;
            if (_binary is null)
            {
                int header = HeaderLength(json.Length, _client);
                _out.Reserve(header + json.Length);
                var buffer = _out.Buffer;
                WriteHeader(buffer.AsSpan(at), Text, json.Length, mask);
                var payload = buffer.AsSpan(at + header, json.Length);
                json.CopyTo(payload);
                if (mask is { } key) Mask(payload, key, 0);
                _out.Length = at + header + json.Length;
                return;
            }
            // Transcoded after room for the longest header, which then moves up against the payload.
            _out.Reserve(MaxHeaderLength + json.Length);
            int length;
            try
            {
                length = _binary.FromFrame(json, native, ref _out.Buffer, at + MaxHeaderLength);
            }
            catch (Protocol.WampProtocolException e)
            {
                throw new IOException($"a message could not be transcoded to {_binary.Name}: {e.Message}", e);
            }
            int headerLength = HeaderLength(length, _client);
            var bytes = _out.Buffer.AsSpan();
            if (headerLength < MaxHeaderLength)
                bytes.Slice(at + MaxHeaderLength, length).CopyTo(bytes[(at + headerLength)..]);
            WriteHeader(bytes[at..], Binary, length, mask);
            if (mask is { } binaryKey) Mask(bytes.Slice(at + headerLength, length), binaryKey, 0);
            _out.Length = at + headerLength + length;
        }
    }

    /// <summary>A control frame (PONG, PING, CLOSE), appended and flushed; a write failure shows on the next send or read.</summary>
    private void SendControl(int opcode, ReadOnlySpan<byte> payload)
    {
        lock (_out.Lock)
        {
            if (_out.Fault is not null) return;
            uint? mask = _client ? NewMaskKey() : null;
            int header = HeaderLength(payload.Length, _client);
            _out.Reserve(header + payload.Length);
            int at = _out.Length;
            WriteHeader(_out.Buffer.AsSpan(at), opcode, payload.Length, mask);
            var body = _out.Buffer.AsSpan(at + header, payload.Length);
            payload.CopyTo(body);
            if (mask is { } key) Mask(body, key, 0);
            _out.Length = at + header + payload.Length;
        }
        Observe(_out.FlushAsync());
    }

    private static void Observe(ValueTask flush)
    {
        if (flush.IsCompleted)
        {
            // A failed write is reported by the next send and ends the next read.
            if (!flush.IsCompletedSuccessfully) _ = flush.AsTask().Exception;
            return;
        }
        _ = flush.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void KeepAliveTick()
    {
        try
        {
            long now = _time.GetTimestamp();
            long pingSent = Volatile.Read(ref _pingSent);
            long lastReceived = Volatile.Read(ref _lastReceived);
            if (pingSent != 0 && lastReceived < pingSent)
            {
                // A peer that answers nothing within the timeout is gone (a frozen host, a dead middlebox route).
                if (_keepAliveTimeout > TimeSpan.Zero && _keepAliveTimeout != Timeout.InfiniteTimeSpan && _time.GetElapsedTime(pingSent, now) >= _keepAliveTimeout)
                    Abort();
                return;
            }
            if (_time.GetElapsedTime(lastReceived, now) < _keepAliveInterval) return;
            Volatile.Write(ref _pingSent, now);
            Span<byte> payload = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(payload, now);
            SendControl(Ping, payload);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The connection is going away anyway.
        }
    }

    // ---------------------------------------------------------------- closing

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Interlocked.Exchange(ref _closeSent, 1) == 0)
            {
                Span<byte> code = stackalloc byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(code, NormalClosure);
                SendControl(Close, code);
            }
            await _out.Pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_closeReceived) _out.ShutdownWhenWritten();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            Abort();
        }
    }

    public void Abort()
    {
        _keepAlive?.Dispose();
        _channel.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        _keepAlive?.Dispose();
        await _channel.DisposeAsync().ConfigureAwait(false);
    }
}
