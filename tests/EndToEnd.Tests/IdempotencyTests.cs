using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;

public sealed record Payment(string Id, decimal Amount);

[WampService("com.example.payments")]
public interface IPayments
{
    Task<Payment> Pay(decimal amount, [IdempotencyKey] string? requestId = null, CancellationToken cancellationToken = default);

    [Idempotent]
    Task<int> Touch(string what);
}

/// <summary>Generated callee stubs deduplicate by idempotency key: the effect happens once, the answer is replayed.</summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private WampRouter _router = null!;
    private WampSession _callee = null!;
    private WampSession _caller = null!;
    private readonly PaymentService _service = new();
    private readonly WatchedStore _store = new();
    private IAsyncDisposable _registration = null!;

    public async Task InitializeAsync()
    {
        _router = WampRouter.CreateInMemory();
        _callee = await WampSession.JoinAsync(_router.ConnectInMemory(), "realm1", new WampSessionOptions { IdempotencyStore = _store });
        _caller = await WampSession.JoinAsync(_router.ConnectInMemory(), "realm1");
        _registration = await _callee.RegisterAsync<IPayments>(_service);
    }

    public async Task DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    private sealed class PaymentService : IPayments
    {
        public int Effects;
        public TaskCompletionSource? Gate;

        public async Task<Payment> Pay(decimal amount, string? requestId = null, CancellationToken cancellationToken = default)
        {
            int n = Interlocked.Increment(ref Effects);
            if (Gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
            if (amount < 0) throw new WampException("com.example.error.invalid_amount", $"cannot pay {amount}");
            return new Payment($"p{n}", amount);
        }

        public Task<int> Touch(string what) => Task.FromResult(Interlocked.Increment(ref Effects));
    }

    private IPayments Payments => _caller.GetProxy<IPayments>();

    /// <summary>The default store, telling the test when a claim found the key in flight.</summary>
    private sealed class WatchedStore : IIdempotencyStore
    {
        private readonly InMemoryIdempotencyStore _inner = new();

        public TaskCompletionSource InFlightSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<IdempotencyClaim> TryClaimAsync(IdempotencyRequest request, CancellationToken cancellationToken)
        {
            var claim = await _inner.TryClaimAsync(request, cancellationToken);
            if (claim.Kind == IdempotencyClaimKind.InFlight) InFlightSeen.TrySetResult();
            return claim;
        }

        public ValueTask CompleteAsync(IdempotencyRequest request, IdempotencyOutcome outcome, CancellationToken cancellationToken) =>
            _inner.CompleteAsync(request, outcome, cancellationToken);

        public ValueTask ReleaseAsync(IdempotencyRequest request, CancellationToken cancellationToken) =>
            _inner.ReleaseAsync(request, cancellationToken);
    }

    [Fact]
    public async Task The_same_key_replays_the_first_result_and_the_effect_happens_once()
    {
        var first = await Payments.Pay(10m, "order-1").WaitAsync(Bound);
        var again = await Payments.Pay(10m, "order-1").WaitAsync(Bound);
        Assert.Equal(first, again);
        Assert.Equal(1, _service.Effects);
        await Payments.Pay(10m, "order-2").WaitAsync(Bound);
        Assert.Equal(2, _service.Effects);
    }

    [Fact]
    public async Task The_same_key_with_other_arguments_is_refused_with_a_documented_error()
    {
        await Payments.Pay(10m, "order-1").WaitAsync(Bound);
        var e = await Assert.ThrowsAsync<WampException>(() => Payments.Pay(99m, "order-1").WaitAsync(Bound));
        Assert.Equal(WampPolicyErrors.IdempotencyKeyReused, e.Uri);
        Assert.Contains("order-1", e.Message);
        Assert.Equal(1, _service.Effects);
    }

    [Fact]
    public async Task An_application_error_is_replayed_for_the_same_key()
    {
        var first = await Assert.ThrowsAsync<WampException>(() => Payments.Pay(-1m, "bad").WaitAsync(Bound));
        var again = await Assert.ThrowsAsync<WampException>(() => Payments.Pay(-1m, "bad").WaitAsync(Bound));
        Assert.Equal("com.example.error.invalid_amount", again.Uri);
        Assert.Equal(first.Message, again.Message);
        Assert.Equal(1, _service.Effects);
    }

    [Fact]
    public async Task A_second_call_while_the_first_runs_waits_and_gets_the_same_outcome()
    {
        _service.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Payments.Pay(5m, "slow");
        var second = Payments.Pay(5m, "slow");
        await _store.InFlightSeen.Task.WaitAsync(Bound); // the second invocation reached the callee and waits on the first
        Assert.False(second.IsCompleted);
        _service.Gate.SetResult();
        Assert.Equal(await first.WaitAsync(Bound), await second.WaitAsync(Bound));
        Assert.Equal(1, _service.Effects);
    }

    [Fact]
    public async Task Idempotent_methods_get_a_new_key_per_logical_call()
    {
        // Two logical calls of an [Idempotent] method each run: the keys differ (UUIDv7 per call).
        Assert.Equal(1, await Payments.Touch("a").WaitAsync(Bound));
        Assert.Equal(2, await Payments.Touch("a").WaitAsync(Bound));
    }

    [Fact]
    public async Task Without_a_key_nothing_is_deduplicated()
    {
        await Payments.Pay(1m).WaitAsync(Bound);
        await Payments.Pay(1m).WaitAsync(Bound);
        Assert.Equal(2, _service.Effects);
    }
}
