using System.Diagnostics;
using System.Net.Sockets;

namespace WampContracts.Router.Tests;

/// <summary>
/// <see cref="WampRouterOptions.KeepAliveInterval"/> and <see cref="WampRouterOptions.KeepAliveTimeout"/>: a joined
/// session whose peer answers no WebSocket ping is dropped, one that answers is kept. The keepalive runs on the
/// real clock, so this waits real time (about 4 to 5 s with the values below).
/// </summary>
public sealed class KeepAliveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Interval + timeout is 4 s; the keepalive timer ticks every max(1 s, a quarter of the smaller), so the drop is
    // due after at most about 5 s. The timeout also applies to the well-behaved session, so it leaves that session's
    // pongs room on a loaded machine; the bound leaves room for the drop; the point is that it is not forever.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(3), DropBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_joined_session_that_answers_no_ping_is_dropped_within_the_keepalive_interval_and_timeout()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, KeepAliveInterval = Interval, KeepAliveTimeout = PongTimeout });
        // A well-behaved session (ClientWebSocket answers pings while it reads, and the session always reads) stays.
        await using var alive = await WampSession.ConnectAsync(router.Url!, "realm1").WaitAsync(Bound);
        await using var registration = await alive.RegisterAsync("com.example.ping", (inv, ct) => ValueTask.FromResult(WampPayload.FromArgs("pong")));
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var leaves = await alive.SubscribeAsync("wamp.session.on_leave", (e, ct) =>
        {
            left.TrySetResult();
            return ValueTask.CompletedTask;
        });

        // Timed from before the connection (a slow handshake cannot shorten what is measured): the keepalive cannot drop
        // a connection before it exists.
        var silent = Stopwatch.StartNew();
        using var dead = await JoinThenGoSilentAsync(router.Url!);
        Assert.Equal(2, router.SessionCount);

        // The peer's kernel still takes in the router's pings (as it would for a frozen process); nothing answers them.
        await RawWebSocket.DrainUntilClosedAsync(dead.GetStream()).WaitAsync(DropBound);
        silent.Stop();
        // Not before a ping could have gone unanswered: the keepalive dropped it, nothing else did.
        Assert.True(silent.Elapsed >= Interval, $"dropped after {silent.Elapsed.TotalMilliseconds:0} ms");

        Assert.True(alive.IsConnected);
        var result = await alive.CallAsync("com.example.ping").WaitAsync(Bound);
        Assert.Equal("pong", result.Payload.GetArgument<string>(0));
        // The connection closes as the router lets the session go; once its leave is announced, it is gone.
        await left.Task.WaitAsync(Bound);
        Assert.Equal(1, router.SessionCount);
    }

    /// <summary>
    /// A raw TCP client that completes the WebSocket handshake by hand, joins realm1, reads the WELCOME, then never
    /// sends anything again, so no ping is answered (a peer that froze, or a middlebox that keeps the TCP connection of
    /// a vanished peer open).
    /// </summary>
    private static async Task<TcpClient> JoinThenGoSilentAsync(Uri url) => (await RawWebSocket.JoinAsync(url)).Client;

    [Theory]
    [InlineData(-2000, 1000)]
    [InlineData(1000, -5)]
    public void Negative_keepalive_settings_are_refused(int intervalMs, int timeoutMs) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WampRouter.CreateInMemory(new WampRouterOptions
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(intervalMs),
            KeepAliveTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        }));
}
