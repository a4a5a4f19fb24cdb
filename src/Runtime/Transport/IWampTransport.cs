namespace WampContracts.Transport;

/// <summary>
/// A message-based, reliable, ordered, full-duplex channel that carries one serialized WAMP message per
/// message. One reader and one writer may use it at the same time.
/// </summary>
public interface IWampTransport : IAsyncDisposable
{
    /// <summary>Sends one whole message.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    /// <summary>
    /// Receives the next whole message into memory the caller then owns. Returns
    /// <see cref="WampReceiveResult.Closed"/> once the peer has closed the transport.
    /// </summary>
    ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Closes the transport gracefully, bounded by <paramref name="cancellationToken"/>.</summary>
    ValueTask CloseAsync(CancellationToken cancellationToken);

    /// <summary>Tears the transport down at once; pending sends and receives fail.</summary>
    void Abort();
}

/// <summary>What one receive produced.</summary>
public readonly struct WampReceiveResult
{
    private WampReceiveResult(ReadOnlyMemory<byte> message, bool oversized, bool closed, string? rejection = null)
    {
        Message = message;
        Oversized = oversized;
        IsClosed = closed;
        Rejection = rejection;
    }

    /// <summary>The message; for an oversized one only its first bytes (enough to name the request).</summary>
    public ReadOnlyMemory<byte> Message { get; }

    /// <summary>The message was larger than the transport's limit and was discarded past its first bytes.</summary>
    public bool Oversized { get; }

    /// <summary>The peer closed the transport: there are no more messages.</summary>
    public bool IsClosed { get; }

    /// <summary>
    /// Why the transport refused what the peer sent (e.g. a binary frame on <c>wamp.2.json</c>), or null. A
    /// rejection breaks the protocol: the receiver closes the session with ABORT.
    /// </summary>
    public string? Rejection { get; }

    public static WampReceiveResult Closed => new(default, false, true);

    /// <summary>The peer sent something this transport does not carry; <paramref name="reason"/> says what.</summary>
    public static WampReceiveResult Rejected(string reason) => new(default, false, false, reason);

    public static WampReceiveResult Whole(ReadOnlyMemory<byte> message) => new(message, false, false);

    public static WampReceiveResult Truncated(ReadOnlyMemory<byte> prefix) => new(prefix, true, false);
}

/// <summary>
/// A transport that sends frames itself: a binary serializer passes a payload that arrived in its own serializer
/// through untouched. Every other transport is sent <see cref="Protocol.WampFrame.Memory"/> (see <see cref="FrameSender"/>).
/// </summary>
internal interface IWampFrameTransport
{
    ValueTask SendAsync(Protocol.WampFrame frame, CancellationToken cancellationToken);
}

/// <summary>
/// A transport that gathers frames into one write (see <see cref="OutputBuffer"/>): <see cref="FrameSender"/> appends
/// every frame queued while it writes, then flushes once.
/// </summary>
internal interface IWampBatchTransport
{
    /// <summary>Appends one frame to the output (copied: the caller releases it afterwards).</summary>
    /// <exception cref="IOException">The frame cannot be sent (it cannot be transcoded, it is too long, the connection failed).</exception>
    void Append(in Protocol.WampFrame frame);

    /// <summary>Writes what was appended; completes at once when the operating system took it all.</summary>
    ValueTask FlushAsync();
}
