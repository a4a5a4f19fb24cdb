using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

[WampService("com.example.orders")]
public interface IOrders
{
    Task<string> Place(string item, [IdempotencyKey] string? requestId = null);
}

/// <summary>
/// fox-wamp drops custom CALL options (and the standard timeout) on the way to the callee. With
/// <see cref="WampSessionOptions.MetadataInPayload"/> the idempotency key and time limit travel in the payload and survive it.
/// </summary>
public sealed class MetadataCarrierTests : IAsyncLifetime
{
    private PeerProcess _fox = null!;
    private Uri _url = null!;

    public async Task InitializeAsync() => (_fox, _url) = await Peers.StartFoxWampAsync();

    public async Task DisposeAsync() => await _fox.DisposeAsync();

    private sealed class Orders : IOrders
    {
        public int Effects;

        public Task<string> Place(string item, string? requestId = null)
        {
            Interlocked.Increment(ref Effects);
            return Task.FromResult($"{item} placed");
        }
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    public async Task Idempotency_keys_survive_a_router_that_drops_custom_options_only_in_the_payload_carrier(bool carrier, int expectedEffects)
    {
        var options = new WampSessionOptions { MetadataInPayload = carrier };
        await using var callee = await WampSession.ConnectAsync(_url, "realm1", options);
        await using var caller = await WampSession.ConnectAsync(_url, "realm1", options);
        var orders = new Orders();
        await using var registration = await callee.RegisterAsync<IOrders>(orders);
        var proxy = caller.GetProxy<IOrders>();

        Assert.Equal("book placed", await proxy.Place("book", "order-7").WaitAsync(Peers.Bound));
        Assert.Equal("book placed", await proxy.Place("book", "order-7").WaitAsync(Peers.Bound));
        // Without the carrier fox-wamp loses the key and the effect happens twice; with it, once.
        Assert.Equal(expectedEffects, orders.Effects);
    }

    [Fact]
    public async Task The_time_limit_reaches_the_callee_through_the_carrier()
    {
        var options = new WampSessionOptions { MetadataInPayload = true };
        await using var callee = await WampSession.ConnectAsync(_url, "realm1", options);
        await using var caller = await WampSession.ConnectAsync(_url, "realm1", options);
        var seen = new TaskCompletionSource<(TimeSpan? Limit, string? Key)>();
        await using var registration = await callee.RegisterAsync("com.example.limit", (inv, ct) =>
        {
            seen.TrySetResult((inv.Timeout, inv.IdempotencyKey));
            return ValueTask.FromResult(WampPayload.Empty);
        });
        await caller.CallAsync("com.example.limit", WampPayload.FromJson("[1]"), new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(15_000), IdempotencyKey = "k1" }).WaitAsync(Peers.Bound);
        Assert.Equal((TimeSpan.FromMilliseconds(15_000), "k1"), await seen.Task.WaitAsync(Peers.Bound));
    }
}
