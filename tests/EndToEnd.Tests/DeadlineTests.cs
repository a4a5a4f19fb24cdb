using Microsoft.Extensions.Time.Testing;
using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;

/// <summary>Time limits and deadlines, on a fake clock shared by the router and every session (no sleeping).</summary>
public sealed class DeadlineTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new();
    private WampRouter _router = null!;

    public Task InitializeAsync()
    {
        _router = WampRouter.CreateInMemory(new WampRouterOptions { TimeProvider = _clock });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _router.DisposeAsync();

    private Task<WampSession> JoinAsync() =>
        WampSession.JoinAsync(_router.ConnectInMemory(), "realm1", new WampSessionOptions { TimeProvider = _clock });

    /// <summary>Registers a procedure that reports the limit it received and then never answers on its own.</summary>
    private static async Task<(WampRegistration Registration, Task<TimeSpan?> Limit, Task Canceled)> RegisterHangingAsync(WampSession callee, string procedure)
    {
        var limit = new TaskCompletionSource<TimeSpan?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var canceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = await callee.RegisterAsync(procedure, async (inv, ct) =>
        {
            using var _ = ct.Register(() => canceled.TrySetResult());
            limit.TrySetResult(inv.Timeout);
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        return (registration, limit.Task, canceled.Task);
    }

    [Fact]
    public async Task The_limit_comes_from_the_scope_then_the_call_then_the_session_default_capped_by_the_deadline()
    {
        await using var callee = await JoinAsync();
        await using var caller = await JoinAsync();
        var seen = new List<TimeSpan?>();
        await using var registration = await callee.RegisterAsync("com.example.limit", (inv, ct) =>
        {
            lock (seen) seen.Add(inv.Timeout);
            return ValueTask.FromResult(WampPayload.Empty);
        });
        var method = new WampCallOptions { Timeout = TimeSpan.FromSeconds(2) };

        await caller.CallAsync("com.example.limit").WaitAsync(Bound);                       // session default
        await caller.CallAsync("com.example.limit", default, method).WaitAsync(Bound);      // the call's own
        using (WampTimeout.Override(TimeSpan.FromMilliseconds(500)))
            await caller.CallAsync("com.example.limit", default, method).WaitAsync(Bound);  // the scope wins
        using (WampDeadline.Within(TimeSpan.FromMilliseconds(300), _clock))
            await caller.CallAsync("com.example.limit", default, method).WaitAsync(Bound);  // capped by the deadline

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(300)], seen);
    }

    [Fact]
    public async Task An_expired_limit_fails_the_call_with_WampTimeoutException_and_stops_the_callee()
    {
        await using var callee = await JoinAsync();
        await using var caller = await JoinAsync();
        var (registration, limit, canceled) = await RegisterHangingAsync(callee, "com.example.slow");
        await using var _ = registration;

        var call = caller.CallAsync("com.example.slow", default, new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        Assert.Equal(TimeSpan.FromMilliseconds(200), await limit.WaitAsync(Bound));
        _clock.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(call.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var e = await Assert.ThrowsAsync<WampTimeoutException>(() => call.WaitAsync(Bound));
        Assert.IsAssignableFrom<TimeoutException>(e);
        Assert.Equal("com.example.slow", e.Procedure);
        Assert.Equal(TimeSpan.FromMilliseconds(200), e.Limit);
        Assert.Equal(1, e.Attempts);
        Assert.Contains("'com.example.slow' timed out after 200 ms (limit 200 ms, 1 attempt)", e.Message);
        await canceled.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_deadline_that_has_passed_starts_no_call()
    {
        await using var caller = await JoinAsync();
        using (WampDeadline.Within(TimeSpan.FromMilliseconds(50), _clock))
        {
            _clock.Advance(TimeSpan.FromMilliseconds(50));
            var e = await Assert.ThrowsAsync<WampTimeoutException>(() => caller.CallAsync("com.example.anything"));
            Assert.Equal(0, e.Attempts);
        }
    }

    [Fact]
    public async Task A_deadline_propagates_from_caller_through_A_to_B_without_user_code()
    {
        // caller -(300 ms deadline)-> A -> B, where B would take 1 s.
        await using var a = await JoinAsync();
        await using var b = await JoinAsync();
        await using var caller = await JoinAsync();
        var bStarted = new TaskCompletionSource<TimeSpan?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bCanceledAt = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        int workAfterDeadline = 0;
        var start = _clock.GetTimestamp();

        await using var regB = await b.RegisterAsync("com.example.b", async (inv, ct) =>
        {
            using var _ = ct.Register(() => bCanceledAt.TrySetResult(_clock.GetElapsedTime(start)));
            bStarted.TrySetResult(inv.Timeout);
            await Task.Delay(TimeSpan.FromSeconds(1), _clock, ct); // B's work
            Interlocked.Increment(ref workAfterDeadline);
            return default;
        });
        await using var regA = await a.RegisterAsync("com.example.a", async (inv, ct) =>
        {
            // A's handler calls B with no timeout of its own: it inherits what remains of the caller's deadline.
            await a.CallAsync("com.example.b", default, null, ct);
            return default;
        });

        Task<WampResult> call;
        using (WampDeadline.Within(TimeSpan.FromMilliseconds(300), _clock))
            call = caller.CallAsync("com.example.a");

        Assert.Equal(TimeSpan.FromMilliseconds(300), await bStarted.Task.WaitAsync(Bound));
        _clock.Advance(TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAsync<WampTimeoutException>(() => call.WaitAsync(Bound));
        Assert.Equal(TimeSpan.FromMilliseconds(300), e.Limit);
        Assert.True(await bCanceledAt.Task.WaitAsync(Bound) < TimeSpan.FromMilliseconds(400));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, Volatile.Read(ref workAfterDeadline));
    }
}
