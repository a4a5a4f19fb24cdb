using StackExchange.Redis;
using WampContracts.Redis;

namespace WampContracts.ScaleOut.Tests;

/// <summary>Two stores on two connections stand for two callee replicas sharing one Redis.</summary>
public sealed class RedisIdempotencyStoreTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static IdempotencyRequest Request(string fingerprint = "f1", string key = "k1") => new("com.example.pay", key, fingerprint);

    [Fact]
    public async Task A_key_is_claimed_once_across_replicas_and_its_first_outcome_is_replayed_to_the_other()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        await using var b = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var storeA = new RedisIdempotencyStore(a);
        var storeB = new RedisIdempotencyStore(b);

        Assert.Equal(IdempotencyClaimKind.Claimed, (await storeA.TryClaimAsync(Request(), default)).Kind);
        var duplicate = await storeB.TryClaimAsync(Request(), default);
        Assert.Equal(IdempotencyClaimKind.InFlight, duplicate.Kind);
        Assert.False(duplicate.Running!.IsCompleted);

        await storeA.CompleteAsync(Request(), IdempotencyOutcome.FromResult(WampPayload.FromArgs(42)), default);
        await duplicate.Running.WaitAsync(Bound);
        var replay = await storeB.TryClaimAsync(Request(), default);
        Assert.Equal(IdempotencyClaimKind.Completed, replay.Kind);
        Assert.False(replay.Outcome!.IsError);
        Assert.Equal(42, replay.Outcome.Payload.Arguments[0].GetInt32());

        // The same key with other arguments is refused, on any replica.
        Assert.Equal(IdempotencyClaimKind.Mismatch, (await storeB.TryClaimAsync(Request("f2"), default)).Kind);
    }

    [Fact]
    public async Task An_error_outcome_is_replayed_a_released_key_runs_again_and_a_completed_key_expires()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var store = new RedisIdempotencyStore(a);

        Assert.Equal(IdempotencyClaimKind.Claimed, (await store.TryClaimAsync(Request(key: "e"), default)).Kind);
        await store.CompleteAsync(Request(key: "e"), IdempotencyOutcome.FromError(new WampException("com.example.error.declined", "no")), default);
        var error = await store.TryClaimAsync(Request(key: "e"), default);
        Assert.Equal(IdempotencyClaimKind.Completed, error.Kind);
        Assert.Equal("com.example.error.declined", error.Outcome!.ErrorUri);

        Assert.Equal(IdempotencyClaimKind.Claimed, (await store.TryClaimAsync(Request(key: "r"), default)).Kind);
        var waiting = await new RedisIdempotencyStore(a).TryClaimAsync(Request(key: "r"), default);
        await store.ReleaseAsync(Request(key: "r"), default);
        await waiting.Running!.WaitAsync(Bound);
        Assert.Equal(IdempotencyClaimKind.Claimed, (await store.TryClaimAsync(Request(key: "r"), default)).Kind);

        // Redis expires a completed key after the retention: it can then be claimed anew. A store of its own with a
        // short retention, so no step above can find its key expired on a machine slow enough to take 200 ms a step.
        var brief = new RedisIdempotencyStore(a, retention: TimeSpan.FromMilliseconds(200));
        Assert.Equal(IdempotencyClaimKind.Claimed, (await brief.TryClaimAsync(Request(key: "x"), default)).Kind);
        await brief.CompleteAsync(Request(key: "x"), IdempotencyOutcome.FromResult(WampPayload.FromArgs(1)), default);
        using var timeout = new CancellationTokenSource(Bound);
        while ((await brief.TryClaimAsync(Request(key: "x"), default)).Kind != IdempotencyClaimKind.Claimed)
            await Task.Delay(50, timeout.Token);
    }

    [Fact]
    public async Task A_duplicate_waiting_for_a_running_claim_stops_waiting_when_its_caller_gives_up()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var store = new RedisIdempotencyStore(a);
        Assert.Equal(IdempotencyClaimKind.Claimed, (await store.TryClaimAsync(Request(), default)).Kind);
        using var deadline = new CancellationTokenSource();
        var waiting = await store.TryClaimAsync(Request(), deadline.Token);
        deadline.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Running!.WaitAsync(Bound));
    }
}
