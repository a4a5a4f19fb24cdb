using StackExchange.Redis;
using WampContracts;

namespace WampContracts.ScaleOut.Replica;

/// <summary>The service the replicas share: one effect per logical call, whatever the retries.</summary>
[WampService("com.example.ledger")]
public interface ILedger
{
    /// <summary>Records <paramref name="entry"/> once; returns it.</summary>
    [Timeout(10_000), Idempotent]
    Task<int> Apply(int entry);
}

/// <summary>
/// Works a while, then records the effect in Redis (the counter lives outside the replicas). A replica the test is about
/// to kill is first frozen (<see cref="FreezeKey"/>): its calls stop before their effect, so the kill lands mid-work,
/// as a crash does, and not between an effect and its stored outcome (a window only a transaction spanning both closes).
/// </summary>
public sealed class Ledger(IDatabase redis, int workMs) : ILedger
{
    public const string EffectsKey = "ledger:effects";
    public const string PerEntryKey = "ledger:per-entry";
    public const string LogKey = "ledger:log";
    public const string FrozenKey = "ledger:frozen";

    public static string FreezeKey(int processId) => $"ledger:freeze:{processId}";

    public async Task<int> Apply(int entry)
    {
        await Task.Delay(workMs);
        if (await redis.KeyExistsAsync(FreezeKey(Environment.ProcessId)))
        {
            await redis.StringIncrementAsync(FrozenKey);
            await Task.Delay(Timeout.Infinite); // until the test kills this process
        }
        // The effect comes last, so a replica killed during the work leaves none behind.
        var batch = redis.CreateBatch();
        var count = batch.StringIncrementAsync(EffectsKey);
        var perEntry = batch.HashIncrementAsync(PerEntryKey, entry);
        // Which process had the effect, and when: what a failing test shows.
        var log = batch.ListRightPushAsync(LogKey, $"{entry} pid {Environment.ProcessId} at {DateTime.UtcNow:HH:mm:ss.fff}");
        batch.Execute();
        await Task.WhenAll(count, perEntry, log);
        return entry;
    }
}
