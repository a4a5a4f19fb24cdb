using System.Collections.Concurrent;
using WampContracts.Protocol;
using WampContracts.Router;
using WampContracts.Transport;

namespace WampContracts.EndToEnd.Tests;

[WampService("com.example.catalog")]
public interface ICatalog
{
    [NoSideEffects]
    Task<int> Price(int item);   // a read: retried, nothing keyed or stored

    [Idempotent]
    Task<int> Reserve(int item); // a write: keyed, deduplicated by the callee, retried
}

/// <summary>
/// [NoSideEffects] calls are retried after a dropped connection like [Idempotent] ones, but carry no idempotency key
/// and leave nothing in the callee's store; [Idempotent] calls still carry one key on every attempt and are replayed.
/// </summary>
public sealed class NoSideEffectsTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly byte[] KeyOption = "x_idempotency_key"u8.ToArray();
    private WampRouter _router = null!;
    private readonly WireLog _callerWire = new();
    private readonly WireLog _calleeWire = new();
    private readonly CountingStore _store = new();
    private readonly Catalog _catalog = new();
    private WampSession _callee = null!;
    private WampSession _caller = null!;
    private IAsyncDisposable _registration = null!;

    public async Task InitializeAsync()
    {
        _router = WampRouter.CreateInMemory();
        _callee = await WampSession.JoinAsync(new FaultyTransport(_router.ConnectInMemory(), _calleeWire.TakeResultToDrop, _calleeWire), "realm1",
            new WampSessionOptions { IdempotencyStore = _store });
        _registration = await _callee.RegisterAsync<ICatalog>(_catalog);
        _caller = await WampSession.JoinAsync(ct => Task.FromResult<IWampTransport>(new FaultyTransport(_router.ConnectInMemory(), _callerWire.TakeResultToDrop, _callerWire)), "realm1",
            new WampSessionOptions
            {
                Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20) },
                RetryPolicy = new WampRetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) },
            });
    }

    public async Task DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    private sealed class Catalog : ICatalog
    {
        public int PriceRuns;
        public int ReserveRuns;

        public Task<int> Price(int item)
        {
            Interlocked.Increment(ref PriceRuns);
            return Task.FromResult(item * 10);
        }

        public Task<int> Reserve(int item) => Task.FromResult(Interlocked.Increment(ref ReserveRuns));
    }

    /// <summary>The default store, counting how often the callee's deduplication consulted it.</summary>
    private sealed class CountingStore : IIdempotencyStore
    {
        public readonly InMemoryIdempotencyStore Inner = new();
        public int Claims;
        public int Completions;

        public ValueTask<IdempotencyClaim> TryClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Claims);
            return Inner.TryClaimAsync(request, cancellationToken);
        }

        public ValueTask CompleteAsync(IdempotencyRequest request, IdempotencyOutcome outcome, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Completions);
            return Inner.CompleteAsync(request, outcome, cancellationToken);
        }

        public ValueTask ReleaseAsync(IdempotencyRequest request, CancellationToken cancellationToken) => Inner.ReleaseAsync(request, cancellationToken);
    }

    private static string? KeyOf(WampMessage callOrInvocation) => callOrInvocation.Dict.GetString(KeyOption);

    [Fact]
    public async Task A_call_without_side_effects_is_retried_after_a_dropped_connection_with_no_key_and_nothing_stored()
    {
        _callerWire.ResultsToDrop = 1;

        int price = await _caller.GetProxy<ICatalog>().Price(7).WaitAsync(Bound);

        Assert.Equal(70, price);
        Assert.Equal(1, _callerWire.Drops);
        Assert.Equal(2, _callerWire.Calls.Count);            // retried: a second CALL after the drop
        Assert.Equal(2, _catalog.PriceRuns);                 // ran again: a read has nothing to replay
        Assert.All(_callerWire.Calls, c => Assert.Null(KeyOf(c)));
        Assert.All(_callerWire.Calls, c => Assert.DoesNotContain("x_wampcontracts", c.Payload.ToString()));
        Assert.Equal(2, _calleeWire.Invocations.Count);
        Assert.All(_calleeWire.Invocations, i => Assert.Null(KeyOf(i)));
        Assert.Equal(0, _store.Claims);                      // nothing fingerprinted
        Assert.Equal(0, _store.Inner.Count);                 // nothing stored
    }

    [Fact]
    public async Task An_idempotent_call_is_still_retried_with_the_same_key_and_replayed_by_the_callee()
    {
        _callerWire.ResultsToDrop = 1;

        int reservation = await _caller.GetProxy<ICatalog>().Reserve(7).WaitAsync(Bound);

        Assert.Equal(1, reservation);                        // the first run's answer, replayed
        Assert.Equal(1, _callerWire.Drops);
        Assert.Equal(1, _catalog.ReserveRuns);               // the effect happened once
        var keys = _callerWire.Calls.Select(KeyOf).ToList();
        Assert.Equal(2, keys.Count);
        Assert.NotNull(keys[0]);
        Assert.Equal(keys[0], keys[1]);                      // one key per logical call, the same on the retry
        Assert.True(Guid.TryParse(keys[0], out var key) && key.Version == 7, $"not a UUIDv7: {keys[0]}");
        Assert.All(_calleeWire.Invocations, i => Assert.Equal(keys[0], KeyOf(i)));
        Assert.Equal(2, _store.Claims);                      // claimed, then found completed
        Assert.Equal(1, _store.Completions);
        Assert.Equal(1, _store.Inner.Count);                 // the outcome is stored
    }

    [Fact]
    public async Task A_hand_written_descriptor_without_side_effects_is_retried_the_same_way()
    {
        var price = new WampMethodDescriptor("Catalog", "Price", "com.example.catalog.price", 0, WampIdempotencyLevel.NoSideEffects);
        _callerWire.ResultsToDrop = 1;

        int result = await WampContractRuntime.CallAsync(_caller, price, WampPayload.FromArgs(3), WampContractRuntime.TypeInfo<int>(_caller), null, default).WaitAsync(Bound);

        Assert.Equal(30, result);
        Assert.Equal(1, _callerWire.Drops);
        Assert.Equal(2, _callerWire.Calls.Count);
        Assert.All(_callerWire.Calls, c => Assert.Null(KeyOf(c)));
        Assert.Equal(0, _store.Claims);
    }

    [Fact]
    public async Task A_key_sent_to_a_procedure_without_side_effects_is_not_stored()
    {
        // A caller built from an older contract, where the read was still [Idempotent], sends a key; the callee
        // runs the read each time and stores nothing.
        var options = new WampCallOptions { IdempotencyKey = "k1" };
        await _caller.CallAsync("com.example.catalog.price", WampPayload.FromArgs(7), options).WaitAsync(Bound);
        await _caller.CallAsync("com.example.catalog.price", WampPayload.FromArgs(7), options).WaitAsync(Bound);

        Assert.All(_calleeWire.Invocations, i => Assert.Equal("k1", KeyOf(i)));
        Assert.Equal(2, _catalog.PriceRuns);
        Assert.Equal(0, _store.Claims);
        Assert.Equal(0, _store.Inner.Count);
    }
}
