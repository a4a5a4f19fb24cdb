using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Tests;

/// <summary>A session that exists before it has joined (what a host hands its proxies out on).</summary>
public class DeferredJoinUnitTests
{
    private static readonly WampReconnectPolicy NoDelay = new() { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };

    [Fact]
    public async Task It_returns_before_joining_then_joins_after_a_failed_attempt_and_a_call_made_meanwhile_goes_out_once_joined()
    {
        var secondAttempt = new TaskCompletionSource<ScriptedRouter>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        Task<IWampTransport> Connect(CancellationToken ct)
        {
            // The first attempt finds no router; the second one does.
            if (Interlocked.Increment(ref attempts) == 1) throw new WampConnectionException(WampConnectionException.TransportLost, "connection refused");
            var router = ScriptedRouter.Create();
            secondAttempt.TrySetResult(router);
            return Task.FromResult<IWampTransport>(router.Client);
        }

        await using var session = WampSession.StartJoining(Connect, "realm1", new WampSessionOptions { Reconnect = NoDelay });
        var joined = session.WaitUntilConnectedAsync();
        var published = session.WaitForJoinAsync(CancellationToken.None);

        var router = await secondAttempt.Task.WaitAsync(ScriptedRouter.Bound);
        await router.ReceiveAsync(WampMessageType.Hello);
        Assert.False(joined.IsCompleted);
        router.Send(ScriptedRouter.AllFeaturesWelcome);
        await joined.WaitAsync(ScriptedRouter.Bound);
        await published.WaitAsync(ScriptedRouter.Bound);

        Assert.True(session.IsConnected);
        Assert.Equal(4242, session.SessionId);
        Assert.Equal(2, attempts);
        await router.DisposeAsync();
    }

    [Fact]
    public async Task A_session_that_never_joined_ends_when_disposed_and_its_waiters_learn_it()
    {
        var never = new TaskCompletionSource<IWampTransport>();
        var session = WampSession.StartJoining(ct => never.Task.WaitAsync(ct), "realm1", new WampSessionOptions { Reconnect = NoDelay });
        var waiting = session.WaitUntilConnectedAsync();
        Assert.False(session.IsConnected);

        await session.DisposeAsync().AsTask().WaitAsync(ScriptedRouter.Bound);

        await session.Completion.WaitAsync(ScriptedRouter.Bound);
        await Assert.ThrowsAsync<WampConnectionException>(() => waiting.WaitAsync(ScriptedRouter.Bound));
    }

    [Fact]
    public void It_needs_a_reconnect_policy_and_a_valid_realm()
    {
        static Task<IWampTransport> Connect(CancellationToken ct) => throw new InvalidOperationException("not called");
        Assert.Throws<ArgumentException>(() => WampSession.StartJoining(Connect, "realm1", new WampSessionOptions()));
        Assert.Throws<ArgumentException>(() => WampSession.StartJoining(Connect, "not a realm!", new WampSessionOptions { Reconnect = NoDelay }));
    }
}
