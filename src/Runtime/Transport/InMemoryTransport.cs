using System.Threading.Channels;

namespace WampContracts.Transport;

/// <summary>
/// Two connected in-process transports: what one sends, the other receives. For tests and for
/// running a client against an in-process router with no sockets.
/// </summary>
internal sealed class InMemoryTransport : IWampTransport
{
    private readonly Channel<byte[]> _incoming;
    private readonly Channel<byte[]> _outgoing;
    private readonly int _maxMessageSize;

    private InMemoryTransport(Channel<byte[]> incoming, Channel<byte[]> outgoing, int maxMessageSize)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>Creates a connected pair. <paramref name="maxMessageSize"/> applies to what each side receives.</summary>
    public static (InMemoryTransport Client, InMemoryTransport Server) CreatePair(int maxMessageSize = 16 * 1024 * 1024)
    {
        var toServer = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var toClient = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        return (new InMemoryTransport(toClient, toServer, maxMessageSize), new InMemoryTransport(toServer, toClient, maxMessageSize));
    }

    /// <summary>True once this side or its peer has closed or aborted.</summary>
    public bool IsClosed => _outgoing.Reader.Completion.IsCompleted || _incoming.Reader.Completion.IsCompleted;

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        // Copy: the sender reuses its buffer once the send completes, as it would with a socket.
        if (!_outgoing.Writer.TryWrite(message.ToArray()))
            return ValueTask.FromException(new IOException("The in-memory transport is closed."));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) ||
            !_incoming.Reader.TryRead(out var message))
            return WampReceiveResult.Closed;
        if (message.Length > _maxMessageSize)
            return WampReceiveResult.Truncated(message.AsMemory(0, Math.Min(message.Length, WebSocketTransport.OversizedPrefixLength)));
        return WampReceiveResult.Whole(message);
    }

    public ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public void Abort()
    {
        _outgoing.Writer.TryComplete();
        _incoming.Writer.TryComplete();
    }

    public ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }
}
