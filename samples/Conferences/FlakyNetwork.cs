using WampContracts.Transport;

namespace Conferences;

/// <summary>
/// For the demo only: a transport that can be told to drop the connection when the next RESULT arrives, the way a
/// network fails after the callee has done its work but before the caller hears back.
/// </summary>
public sealed class FlakyNetwork
{
    private int _armed;

    public int Drops { get; private set; }

    /// <summary>The next RESULT received on any connection is lost together with its connection.</summary>
    public void DropNextResult() => Interlocked.Exchange(ref _armed, 1);

    public IWampTransport Wrap(IWampTransport inner) => new Transport(inner, this);

    private sealed class Transport(IWampTransport inner, FlakyNetwork network) : IWampTransport
    {
        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => inner.SendAsync(message, cancellationToken);

        public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
        {
            var r = await inner.ReceiveAsync(cancellationToken);
            if (!r.IsClosed && r.Message.Span.StartsWith("[50,"u8) && Interlocked.Exchange(ref network._armed, 0) == 1)
            {
                network.Drops++;
                inner.Abort();
                return WampReceiveResult.Closed;
            }
            return r;
        }

        public ValueTask CloseAsync(CancellationToken cancellationToken) => inner.CloseAsync(cancellationToken);

        public void Abort() => inner.Abort();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
