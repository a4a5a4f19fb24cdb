using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Router.Tests;

/// <summary>A session that stops reading is cut off before the router holds unbounded memory for it; nobody else notices.</summary>
public class SlowConsumerTests
{
    /// <summary>The router's side of a connection whose peer stops reading once <see cref="Stall"/> is called.</summary>
    private sealed class StallingTransport(IWampTransport inner) : IWampTransport
    {
        private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _stalled;

        public void Stall() => _stalled = true;

        public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        {
            if (_stalled) await _aborted.Task.WaitAsync(cancellationToken); // the peer's window is full: the send never completes
            await inner.SendAsync(message, cancellationToken);
        }

        public ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken) => inner.ReceiveAsync(cancellationToken);

        public ValueTask CloseAsync(CancellationToken cancellationToken) => inner.CloseAsync(cancellationToken);

        public void Abort()
        {
            _aborted.TrySetException(new IOException("aborted"));
            inner.Abort();
        }

        public ValueTask DisposeAsync()
        {
            Abort();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_is_disconnected_and_the_others_carry_on()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxQueuedMessagesPerSession = 50 });
        var (client, server) = InMemoryTransport.CreatePair();
        var stalling = new StallingTransport(server);
        _ = router.ServeAsync(stalling);
        await using var slow = RawClient.Over(client);
        await slow.JoinAsync();
        slow.Send("""[32, 1, {}, "com.example.ticks"]""");
        await slow.ReceiveAsync(WampMessageType.Subscribed);

        await using var watcher = await RawClient.JoinAsync(router);
        watcher.Send("""[32, 1, {}, "wamp.session.on_leave"]""");
        await watcher.ReceiveAsync(WampMessageType.Subscribed);

        stalling.Stall();
        await using var publisher = await RawClient.JoinAsync(router);
        for (int i = 1; i <= 200; i++) publisher.Send($$"""[16, {{i}}, {}, "com.example.ticks", [{{i}}]]""");
        await publisher.AssertNothingPendingAsync(); // the publisher is unaffected

        var left = await watcher.ReceiveAsync(WampMessageType.Event);
        Assert.Equal($"[{slow.SessionId}", left.Payload.ToString()[5..].Split(',')[0]);
        Assert.True(await slow.ClosedAsync());
    }
}
