using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;
using WampContracts.Router;
using WampContracts.Transport;

namespace WampContracts.EndToEnd.Tests;

[WampService("com.example.ledger")]
public interface ILedger
{
    [Idempotent]
    Task<int> Apply(int entry);

    Task<int> Post(int entry); // not safe to repeat
}

/// <summary>
/// What crossed one side's transport: the CALLs it delivered to the router and the INVOCATIONs it received, parsed,
/// and how many connections it dropped.
/// </summary>
internal sealed class WireLog
{
    private int _seed = 20261127;

    /// <summary>How many of the next RESULTs <see cref="TakeResultToDrop"/> drops.</summary>
    public int ResultsToDrop;
    public int Drops;
    public readonly ConcurrentQueue<WampMessage> Calls = new();
    public readonly ConcurrentQueue<WampMessage> Invocations = new();

    /// <summary>The CALLs' positional arguments as JSON text.</summary>
    public IReadOnlyList<string> CallArguments => [.. Calls.Select(c => Encoding.UTF8.GetString(c.Payload.ArgumentsJson.Span))];

    public bool TakeResultToDrop() => Interlocked.Decrement(ref ResultsToDrop) >= 0;

    public int NextSeed() => Interlocked.Increment(ref _seed);
}

/// <summary>
/// A transport that records what crosses it (<see cref="WireLog"/>) and drops the connection when a RESULT arrives and
/// <paramref name="dropThisResult"/> says so: the callee has run, the caller never hears of it.
/// </summary>
internal sealed class FaultyTransport(IWampTransport inner, Func<bool> dropThisResult, WireLog log) : IWampTransport
{
    /// <summary>Drops the connection at random, on <paramref name="dropProbability"/> of the RESULTs.</summary>
    public static FaultyTransport AtRandom(IWampTransport inner, double dropProbability, WireLog log)
    {
        var random = new Random(log.NextSeed()); // one reader loop per transport: no concurrent use
        return new FaultyTransport(inner, () => random.NextDouble() < dropProbability, log);
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        bool call = message.Span.StartsWith("[48,"u8);
        var copy = call ? WampMessageParser.Parse(message.ToArray()) : default;
        await inner.SendAsync(message, cancellationToken);
        if (call) log.Calls.Enqueue(copy); // delivered to the router
    }

    public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
    {
        var r = await inner.ReceiveAsync(cancellationToken);
        if (r.IsClosed) return r;
        if (r.Message.Span.StartsWith("[68,"u8)) log.Invocations.Enqueue(WampMessageParser.Parse(r.Message.ToArray()));
        if (r.Message.Span.StartsWith("[50,"u8) && dropThisResult())
        {
            Interlocked.Increment(ref log.Drops);
            inner.Abort();
            return WampReceiveResult.Closed;
        }
        return r;
    }

    public ValueTask CloseAsync(CancellationToken cancellationToken) => inner.CloseAsync(cancellationToken);

    public void Abort() => inner.Abort();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Exactly-once effects under dropped connections, and retries that stay within their budget.</summary>
public sealed class FaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private WampRouter _router = null!;

    public Task InitializeAsync()
    {
        _router = WampRouter.CreateInMemory();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _router.DisposeAsync();

    private sealed class Ledger : ILedger
    {
        public int Effects;
        public readonly System.Collections.Concurrent.ConcurrentBag<int> Posted = new();

        public Task<int> Apply(int entry)
        {
            Interlocked.Increment(ref Effects);
            return Task.FromResult(entry * 2);
        }

        public Task<int> Post(int entry)
        {
            Interlocked.Increment(ref Effects);
            Posted.Add(entry);
            return Task.FromResult(entry * 2);
        }
    }

    private static readonly WampSessionOptions FaultyCaller = new()
    {
        Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20) },
        RetryPolicy = new WampRetryPolicy { MaxAttempts = 5, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) },
        // This test is about exactly-once effects, not throttling: a budget that never runs dry.
        RetryBudget = new WampRetryBudget { MaxTokens = 1_000_000, TokenRatio = 1 },
    };

    private async Task<(WampSession Callee, Ledger Ledger, IAsyncDisposable Registration, WampSession Caller, WireLog Counters)> SetUpAsync()
    {
        var callee = await WampSession.JoinAsync(_router.ConnectInMemory(), "realm1");
        var ledger = new Ledger();
        var registration = await callee.RegisterAsync<ILedger>(ledger);
        var counters = new WireLog();
        var caller = await WampSession.JoinAsync(
            ct => Task.FromResult<IWampTransport>(FaultyTransport.AtRandom(_router.ConnectInMemory(), 0.01, counters)), "realm1", FaultyCaller);
        return (callee, ledger, registration, caller, counters);
    }

    /// <summary>Runs <paramref name="calls"/> calls, <paramref name="workers"/> at a time, collecting each outcome.</summary>
    private static async Task<List<(int Entry, int? Result, Exception? Error)>> RunAsync(int calls, int workers, Func<int, Task<int>> call)
    {
        var outcomes = new List<(int, int?, Exception?)>();
        int next = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int entry;
            while ((entry = Interlocked.Increment(ref next)) <= calls)
            {
                (int, int?, Exception?) outcome;
                try
                {
                    outcome = (entry, await call(entry), null);
                }
                catch (Exception e)
                {
                    outcome = (entry, null, e);
                }
                lock (outcomes) outcomes.Add(outcome);
            }
        }))).WaitAsync(Bound);
        return outcomes;
    }

    [Fact]
    public async Task A_thousand_idempotent_calls_under_dropped_connections_all_complete_and_take_effect_exactly_once()
    {
        var (callee, ledger, registration, caller, counters) = await SetUpAsync();
        await using var _ = callee;
        await using var __ = registration;
        await using var ___ = caller;
        var proxy = caller.GetProxy<ILedger>();

        var outcomes = await RunAsync(1000, 4, entry => proxy.Apply(entry));

        Assert.All(outcomes, o => Assert.True(o.Error is null && o.Result == o.Entry * 2, $"call {o.Entry}: {o.Error}"));
        Assert.Equal(1000, outcomes.Count);
        Assert.Equal(1000, ledger.Effects);           // retried calls were replayed, not run again
        Assert.True(counters.Drops > 0, "no connection was dropped");
        Assert.True(counters.Calls.Count > 1000, "dropped calls were retried");
    }

    [Fact]
    public async Task A_call_that_is_not_safe_to_repeat_is_never_sent_twice_and_fails_with_a_connection_error()
    {
        var (callee, ledger, registration, caller, counters) = await SetUpAsync();
        await using var _ = callee;
        await using var __ = registration;
        await using var ___ = caller;
        var proxy = caller.GetProxy<ILedger>();

        var outcomes = await RunAsync(1000, 4, async entry =>
        {
            // Calls made while the session reconnects are refused at once (not sent): wait, so each call is sent once.
            await caller.WaitUntilConnectedAsync().WaitAsync(Bound);
            return await proxy.Post(entry);
        });

        // The router saw at most one CALL per call: no entry reached the callee twice. (A call refused while the
        // session reconnected was never sent at all.)
        Assert.Equal(counters.CallArguments.Count, counters.CallArguments.Distinct().Count()); // no CALL went out twice
        Assert.Equal(ledger.Posted.Count, ledger.Posted.Distinct().Count());                   // nothing ran twice
        Assert.InRange(counters.Calls.Count, 900, 1000);
        // A call whose caller was gone before the callee started is interrupted, never run: at most once.
        Assert.InRange(ledger.Effects, counters.Calls.Count - counters.Drops, counters.Calls.Count);
        var failed = outcomes.Where(o => o.Error is not null).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, o => Assert.IsType<WampConnectionException>(o.Error));
        Assert.All(outcomes.Where(o => o.Error is null), o => Assert.Equal(o.Entry * 2, o.Result));
    }

    [Fact]
    public async Task Under_sustained_transient_failure_retries_stay_within_the_budget()
    {
        // No callee for the procedure, and a fake clock that never leaves the restart window: every attempt fails
        // transiently with wamp.error.no_such_procedure.
        var clock = new FakeTimeProvider();
        var counters = new WireLog();
        var budget = new WampRetryBudget { MaxTokens = 10, TokenRatio = 0.1 };
        await using var caller = await WampSession.JoinAsync(
            ct => Task.FromResult<IWampTransport>(FaultyTransport.AtRandom(_router.ConnectInMemory(), 0, counters)), "empty",
            new WampSessionOptions { TimeProvider = clock, RetryBudget = budget, RetryPolicy = new WampRetryPolicy { MaxAttempts = 5, InitialBackoff = TimeSpan.Zero } });
        var proxy = caller.GetProxy<ILedger>();

        var outcomes = await RunAsync(1000, 1, entry => proxy.Apply(entry));

        Assert.All(outcomes, o => Assert.Equal("wamp.error.no_such_procedure", Assert.IsType<WampException>(o.Error).Uri));
        Assert.InRange(counters.Calls.Count, 1001, (int)(1000 * 1.1) + budget.MaxTokens); // a burst of retries, then none
    }

    [Fact]
    public async Task No_backoff_is_started_that_cannot_end_before_the_deadline()
    {
        await using var caller = await WampSession.JoinAsync(_router.ConnectInMemory(), "empty",
            new WampSessionOptions { RetryPolicy = new WampRetryPolicy { InitialBackoff = TimeSpan.FromHours(1), MaxBackoff = TimeSpan.FromHours(1) } });
        // The wait is shorter than the deadline: a backoff slept out to the deadline would fail it with a TimeoutException.
        using (WampDeadline.Within(TimeSpan.FromSeconds(60)))
        {
            var e = await Assert.ThrowsAsync<WampException>(() => caller.GetProxy<ILedger>().Apply(1).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("wamp.error.no_such_procedure", e.Uri);
        }
    }
}
