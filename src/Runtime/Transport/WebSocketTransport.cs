using System.Buffers;
using System.Net.WebSockets;
using WampContracts.Serialization;

namespace WampContracts.Transport;

/// <summary>
/// WAMP over a WebSocket: one text message per WAMP message with <c>wamp.2.json</c>, one binary message with
/// <c>wamp.2.msgpack</c> or <c>wamp.2.cbor</c> (transcoded to and from JSON here, see <see cref="WampSerializer"/>).
/// Wraps a client (<see cref="ClientWebSocket"/>) or a server-side socket alike.
/// </summary>
public sealed class WebSocketTransport : IWampTransport, IWampFrameTransport
{
    /// <summary>The WebSocket subprotocol for WAMP with JSON.</summary>
    public const string JsonSubprotocol = "wamp.2.json";

    /// <summary>How many leading bytes of an oversized message are kept, to name the request it belongs to.</summary>
    internal const int OversizedPrefixLength = 4096;

    private readonly WebSocket _socket;
    private readonly int _maxMessageSize;
    // Null for JSON, which passes through untouched.
    private readonly WampSerializer? _binary;
    private byte[] _sendBuffer = [];

    /// <summary>The pooled buffer a message is read into (and copied out of) when it fits.</summary>
    private const int ReceiveBufferSize = 16 * 1024;

    /// <param name="socket">An open WebSocket that negotiated <paramref name="serializer"/>'s subprotocol.</param>
    /// <param name="maxMessageSize">Larger incoming messages (as received, before transcoding) are discarded past their first bytes and reported as oversized.</param>
    /// <param name="serializer">The serializer of the negotiated subprotocol; null for <c>wamp.2.json</c>.</param>
    public WebSocketTransport(WebSocket socket, int maxMessageSize = 16 * 1024 * 1024, WampSerializer? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        serializer ??= WampSerializer.Json;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 64);
        _socket = socket;
        _maxMessageSize = maxMessageSize;
        _binary = serializer.IsBinary ? serializer : null;
        Serializer = serializer;
    }

    /// <summary>The serializer this connection speaks.</summary>
    public WampSerializer Serializer { get; }

    /// <summary>Opens a client WebSocket to <paramref name="url"/> asking for <c>wamp.2.json</c>, with the default <see cref="WampWebSocketOptions"/>.</summary>
    /// <exception cref="WampConnectionException">The connection failed, timed out, or the server chose no WAMP subprotocol.</exception>
    public static Task<WebSocketTransport> ConnectAsync(Uri url, TimeSpan connectTimeout, int maxMessageSize, CancellationToken cancellationToken) =>
        ConnectAsync(url, connectTimeout, maxMessageSize, null, cancellationToken);

    /// <summary>Opens a client WebSocket asking for <c>wamp.2.json</c>; see the overload with serializers.</summary>
    public static Task<WebSocketTransport> ConnectAsync(Uri url, TimeSpan connectTimeout, int maxMessageSize, WampWebSocketOptions? options, CancellationToken cancellationToken) =>
        ConnectAsync(url, connectTimeout, maxMessageSize, options, null, cancellationToken);

    /// <summary>
    /// Opens a client WebSocket to <paramref name="url"/> (<c>ws://</c> or <c>wss://</c>) asking for <c>wamp.2.json</c>,
    /// with the keepalive and TLS settings of <paramref name="options"/>.
    /// </summary>
    /// <exception cref="WampConnectionException">
    /// The connection failed (for a refused certificate, the message names the certificate and why: the policy errors
    /// and chain status, or the failed pinning), timed out, or the server chose no WAMP subprotocol.
    /// </exception>
    /// <exception cref="ArgumentException">TLS settings for a <c>ws://</c> URL, or a malformed pin.</exception>
    /// <remarks><paramref name="serializers"/>: the serializers to offer, in order of preference (their subprotocols); null or empty: JSON only.</remarks>
    public static async Task<WebSocketTransport> ConnectAsync(Uri url, TimeSpan connectTimeout, int maxMessageSize, WampWebSocketOptions? options,
        IReadOnlyList<WampSerializer>? serializers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (serializers is not { Count: > 0 }) serializers = [WampSerializer.Json];
        options ??= WampWebSocketOptions.Default;
        bool secure = url.Scheme == "wss" || url.Scheme == "https";
        if (!secure && options.HasTlsSettings)
            throw new ArgumentException($"TLS settings (pins, certificate validation, client certificate) were given for {url}, which is not encrypted: use wss://.", nameof(url));
        var check = secure ? new ServerCertificateCheck(url.IdnHost, options) : null;
        var socket = new ClientWebSocket();
        foreach (var serializer in serializers) socket.Options.AddSubProtocol(serializer.Subprotocol);
        socket.Options.KeepAliveInterval = options.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = options.KeepAliveTimeout;
        if (check is not null)
        {
            // Always our own callback, even with the defaults: it keeps the reason a certificate was refused.
            socket.Options.RemoteCertificateValidationCallback = check.Validate;
            if (options.ClientCertificate is { } clientCertificate) socket.Options.ClientCertificates = [clientCertificate];
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        try
        {
            await socket.ConnectAsync(url, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new WampConnectionException(WampConnectionException.TransportLost,
                $"Could not connect to {url} within {connectTimeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException or System.Security.Authentication.AuthenticationException)
        {
            socket.Dispose();
            if (check?.Failure is { } refused)
                throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to {url}: {refused}.", e);
            throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to {url}: {WebSocketHandshake.Describe(e)}", e);
        }
        var chosen = serializers.FirstOrDefault(s => s.Subprotocol == socket.SubProtocol);
        if (chosen is null)
        {
            socket.Abort();
            socket.Dispose();
            throw new WampConnectionException(WampConnectionException.TransportLost,
                $"{url} accepted none of the WebSocket subprotocols {string.Join(", ", serializers.Select(s => $"'{s.Subprotocol}'"))} (it chose '{socket.SubProtocol ?? "none"}').");
        }
        return new WebSocketTransport(socket, maxMessageSize, chosen);
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => SendAsync(message, null, cancellationToken);

    ValueTask IWampFrameTransport.SendAsync(Protocol.WampFrame frame, CancellationToken cancellationToken) => SendAsync(frame.Memory, frame.Native, cancellationToken);

    private ValueTask SendAsync(ReadOnlyMemory<byte> message, NativeSplice? native, CancellationToken cancellationToken)
    {
        if (_binary is null)
            return _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        // One writer at a time (IWampTransport's contract), so one send buffer serves every message.
        int length;
        // One large message does not keep its buffer for the connection's life (the previous send has completed: one
        // writer, one send at a time).
        if (_sendBuffer.Length > 1 << 20) _sendBuffer = [];
        try
        {
            length = _binary.FromFrame(message.Span, native, ref _sendBuffer, 0);
        }
        catch (Protocol.WampProtocolException e)
        {
            return ValueTask.FromException(new IOException($"a message could not be transcoded to {_binary.Name}: {e.Message}", e));
        }
        return _socket.SendAsync(_sendBuffer.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
    }

    public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
    {
        // Wait for the next message with a zero-byte read, so an idle connection holds no buffer; then read it into a
        // pooled buffer and copy it out. A message larger than that buffer grows into arrays of its own that the
        // message then keeps.
        ValueWebSocketReceiveResult r;
        try
        {
            r = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException) when (_socket.State is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseReceived)
        {
            return WampReceiveResult.Closed;
        }
        if (r.MessageType == WebSocketMessageType.Close)
            return WampReceiveResult.Closed;
        if (Mismatched(r.MessageType) is { } mismatch)
            return mismatch;
        if (r.EndOfMessage)
            return _binary is null
                ? WampReceiveResult.Whole(ReadOnlyMemory<byte>.Empty) // an empty message (which no parser accepts)
                : Transcoded(_binary, [], oversized: false);

        byte[] pooled = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        try
        {
            return await ReceiveIntoAsync(pooled, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    private async ValueTask<WampReceiveResult> ReceiveIntoAsync(byte[] pooled, CancellationToken cancellationToken)
    {
        byte[] buffer = pooled;
        int count = 0;
        bool oversized = false;
        while (true)
        {
            if (count == buffer.Length && !oversized)
            {
                if (count >= _maxMessageSize)
                {
                    oversized = true;
                }
                else
                {
                    var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(_maxMessageSize + 1L, count * 2L));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    buffer = bigger;
                }
            }

            // Past the limit, keep reading into the tail of the buffer only to discard the rest of the message.
            var target = oversized
                ? buffer.AsMemory(OversizedPrefixLength)
                : buffer.AsMemory(count);
            ValueWebSocketReceiveResult r;
            try
            {
                r = await _socket.ReceiveAsync(target, cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException) when (_socket.State is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseReceived)
            {
                return WampReceiveResult.Closed;
            }
            if (r.MessageType == WebSocketMessageType.Close)
                return WampReceiveResult.Closed;
            if (Mismatched(r.MessageType) is { } mismatch)
                return mismatch;
            if (!oversized)
            {
                count += r.Count;
                if (count > _maxMessageSize) oversized = true;
            }
            if (r.EndOfMessage)
            {
                if (_binary is not null)
                    return Transcoded(_binary, buffer.AsSpan(0, oversized ? OversizedPrefixLength : count), oversized);
                if (oversized)
                    return WampReceiveResult.Truncated(buffer.AsSpan(0, OversizedPrefixLength).ToArray());
                return WampReceiveResult.Whole(ReferenceEquals(buffer, pooled) ? buffer.AsSpan(0, count).ToArray() : buffer.AsMemory(0, count));
            }
        }
    }

    /// <summary>A rejection for a message of the wrong kind: binary on <c>wamp.2.json</c>, text on a binary subprotocol.</summary>
    private WampReceiveResult? Mismatched(WebSocketMessageType type) => type switch
    {
        WebSocketMessageType.Binary when _binary is null =>
            WampReceiveResult.Rejected($"a binary WebSocket message on '{JsonSubprotocol}', which carries text messages only"),
        WebSocketMessageType.Text when _binary is not null =>
            WampReceiveResult.Rejected($"a text WebSocket message on '{_binary.Subprotocol}', which carries binary messages only"),
        _ => null,
    };

    /// <summary>
    /// A binary message (or the head of an oversized one) as JSON. A malformed message is a rejection: the receiver
    /// ends the session with ABORT, and the loop goes on to deliver it.
    /// </summary>
    internal static WampReceiveResult Transcoded(WampSerializer serializer, ReadOnlySpan<byte> message, bool oversized)
    {
        if (oversized) return WampReceiveResult.Truncated(serializer.ToJsonHead(message));
        try
        {
            return WampReceiveResult.Whole(serializer.ToJsonMessage(message));
        }
        catch (Protocol.WampProtocolException e)
        {
            return WampReceiveResult.Rejected(e.Message);
        }
    }

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // InvalidOperationException: a ClientWebSocket disposed between the state check and the close.
            _socket.Abort();
        }
    }

    public void Abort() => _socket.Abort();

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
