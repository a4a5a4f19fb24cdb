using Microsoft.Extensions.Time.Testing;

namespace WampContracts.Tests;

/// <summary>The default store's semantics: replay, mismatch, in-flight, release, expiry and capacity.</summary>
public class IdempotencyStoreUnitTests
{
    private static readonly IdempotencyRequest First = new("com.example.pay", "key-1", "fp-a");
    private static readonly IdempotencyOutcome Paid = IdempotencyOutcome.FromResult(WampPayload.FromJson("""["paid"]"""));

    private static async Task<IdempotencyClaim> Claim(IIdempotencyStore store, IdempotencyRequest request) =>
        await store.TryClaimAsync(request, CancellationToken.None);

    [Fact]
    public async Task The_first_completion_is_replayed_for_the_same_key()
    {
        var store = new InMemoryIdempotencyStore();
        Assert.Equal(IdempotencyClaimKind.Claimed, (await Claim(store, First)).Kind);
        await store.CompleteAsync(First, Paid, default);
        var again = await Claim(store, First);
        Assert.Equal(IdempotencyClaimKind.Completed, again.Kind);
        Assert.Equal("""["paid"]""", System.Text.Encoding.UTF8.GetString(again.Outcome!.ArgumentsJson));
    }

    [Fact]
    public async Task An_application_error_is_stored_and_replayed_too()
    {
        var store = new InMemoryIdempotencyStore();
        await Claim(store, First);
        await store.CompleteAsync(First, IdempotencyOutcome.FromError(new WampException("com.example.error.declined", "card declined")), default);
        var again = await Claim(store, First);
        Assert.True(again.Outcome!.IsError);
        Assert.Equal("com.example.error.declined", again.Outcome.ErrorUri);
    }

    [Fact]
    public async Task The_same_key_with_other_arguments_is_a_mismatch()
    {
        var store = new InMemoryIdempotencyStore();
        await Claim(store, First);
        Assert.Equal(IdempotencyClaimKind.Mismatch, (await Claim(store, First with { Fingerprint = "fp-b" })).Kind);
        await store.CompleteAsync(First, Paid, default);
        Assert.Equal(IdempotencyClaimKind.Mismatch, (await Claim(store, First with { Fingerprint = "fp-b" })).Kind);
    }

    [Fact]
    public async Task Keys_are_scoped_by_procedure()
    {
        var store = new InMemoryIdempotencyStore();
        await Claim(store, First);
        Assert.Equal(IdempotencyClaimKind.Claimed, (await Claim(store, First with { Scope = "com.example.refund" })).Kind);
    }

    [Fact]
    public async Task A_claim_while_the_first_runs_waits_for_its_outcome()
    {
        var store = new InMemoryIdempotencyStore();
        await Claim(store, First);
        var second = await Claim(store, First);
        Assert.Equal(IdempotencyClaimKind.InFlight, second.Kind);
        Assert.False(second.Running!.IsCompleted);
        await store.CompleteAsync(First, Paid, default);
        await second.Running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(IdempotencyClaimKind.Completed, (await Claim(store, First)).Kind);
    }

    [Fact]
    public async Task A_released_key_can_be_claimed_again_and_wakes_waiters()
    {
        var store = new InMemoryIdempotencyStore();
        await Claim(store, First);
        var waiting = await Claim(store, First);
        await store.ReleaseAsync(First, default);
        await waiting.Running!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(IdempotencyClaimKind.Claimed, (await Claim(store, First)).Kind);
    }

    [Fact]
    public async Task Completed_keys_expire_after_the_retention()
    {
        var clock = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(retention: TimeSpan.FromHours(1), timeProvider: clock);
        await Claim(store, First);
        await store.CompleteAsync(First, Paid, default);
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(IdempotencyClaimKind.Completed, (await Claim(store, First)).Kind);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(IdempotencyClaimKind.Claimed, (await Claim(store, First)).Kind);
    }

    [Fact]
    public async Task Past_its_capacity_the_store_evicts_the_oldest_completed_keys()
    {
        var store = new InMemoryIdempotencyStore(capacity: 2);
        var keys = Enumerable.Range(1, 3).Select(i => First with { Key = "k" + i }).ToArray();
        foreach (var k in keys)
        {
            await Claim(store, k);
            await store.CompleteAsync(k, Paid, default);
        }
        Assert.Equal(2, store.Count);
        Assert.Equal(IdempotencyClaimKind.Claimed, (await Claim(store, keys[0])).Kind); // evicted: runs again
        Assert.Equal(IdempotencyClaimKind.Completed, (await Claim(store, keys[2])).Kind);
    }

    [Fact]
    public void The_fingerprint_ignores_call_metadata_carried_in_the_payload()
    {
        // Attempts of one logical call carry different time limits; they are still the same call.
        var args = WampPayload.FromJson("[1]", """{"a":1}""");
        string plain = IdempotencyRequest.FingerprintOf(args);
        Assert.Equal(plain, IdempotencyRequest.FingerprintOf(CallMetadata.AddToPayload(args, "k", TimeSpan.FromMilliseconds(300))));
        Assert.Equal(plain, IdempotencyRequest.FingerprintOf(CallMetadata.AddToPayload(args, "k", TimeSpan.FromMilliseconds(120))));
    }

    [Fact]
    public void The_fingerprint_depends_on_the_arguments()
    {
        var a = IdempotencyRequest.FingerprintOf(WampPayload.FromJson("[1]"));
        Assert.Equal(a, IdempotencyRequest.FingerprintOf(WampPayload.FromJson("[1]")));
        Assert.NotEqual(a, IdempotencyRequest.FingerprintOf(WampPayload.FromJson("[2]")));
        Assert.NotEqual(a, IdempotencyRequest.FingerprintOf(WampPayload.FromJson("[1]", """{"a":1}""")));
    }
}
