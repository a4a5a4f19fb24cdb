using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>Bounds of the router that a client cannot talk it out of: handshake time, call limits, connections, realms.</summary>
public class RouterLimitsTests
{
    [Fact]
    public async Task A_connection_that_sends_no_hello_gets_an_abort_before_it_is_closed()
    {
        var clock = new FakeTimeProvider();
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { TimeProvider = clock, HandshakeTimeout = TimeSpan.FromSeconds(5) });
        await using var silent = await SocketClient.ConnectAsync(router.Url!);
        var abort = silent.ReceiveAsync(WampMessageType.Abort);
        // The router starts its wait when the connection arrives; move the clock until the wait has seen it pass.
        using var stop = new CancellationTokenSource(SocketClient.Bound);
        while (!abort.IsCompleted && !stop.IsCancellationRequested)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(abort, Task.Delay(10, stop.Token));
        }
        var m = await abort;
        Assert.Equal(WampUris.ProtocolViolation, m.Uri);
        Assert.Contains("no HELLO", m.Dict.GetString("message"u8));
        Assert.Null(await silent.ReceiveOrClosedAsync());
    }

    [Fact]
    public async Task Progress_for_a_caller_that_asked_none_does_not_extend_the_dealers_limit()
    {
        var clock = new FakeTimeProvider();
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { TimeProvider = clock });
        await using var callee = await RawClient.JoinAsync(router);
        await using var caller = await RawClient.JoinAsync(router);
        callee.Send("""[64, 1, {}, "com.example.drip"]""");
        await callee.ReceiveAsync(WampMessageType.Registered);

        caller.Send("""[48, 1, {"timeout": 2000}, "com.example.drip"]""");
        var invocation = await callee.ReceiveAsync(WampMessageType.Invocation);
        for (int i = 0; i < 2; i++)
        {
            callee.Send($$"""[70, {{invocation.Id1}}, {"progress": true}, [{{i}}]]""");
            await callee.AssertNothingPendingAsync(); // the router has read the progress
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        var error = await caller.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((1L, WampUris.Timeout), (error.Id2, error.Uri));
    }

    [Fact]
    public async Task Realms_created_on_first_use_go_away_with_their_last_session_and_are_capped()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxRealms = 3 });
        var clients = new List<RawClient>();
        for (int i = 0; i < 3; i++) clients.Add(await RawClient.JoinAsync(router, realm: $"realm{i}"));
        Assert.Equal(3, router.RealmCount);

        await using (var refused = RawClient.Connect(router))
        {
            refused.Send("""[1, "realm.new", {"roles": {"caller": {}}}]""");
            Assert.Equal(WampUris.NoSuchRealm, (await refused.ReceiveAsync(WampMessageType.Abort)).Uri);
        }

        // A session has left its realm by the time the router closes its connection.
        foreach (var client in clients)
        {
            client.Send("""[6, {}, "wamp.close.close_realm"]""");
            await client.ReceiveAsync(WampMessageType.Goodbye);
            Assert.True(await client.ClosedAsync());
            await client.DisposeAsync();
        }
        Assert.Equal(0, router.RealmCount);

        // Many names, one after another: none is kept.
        for (int i = 0; i < 50; i++)
        {
            await using var client = await RawClient.JoinAsync(router, realm: $"burst{i}");
            client.Send("""[6, {}, "wamp.close.close_realm"]""");
            await client.ReceiveAsync(WampMessageType.Goodbye);
            Assert.True(await client.ClosedAsync());
        }
        Assert.Equal(0, router.RealmCount);
        await using var again = await RawClient.JoinAsync(router, realm: "realm.new");
        Assert.Equal(1, router.RealmCount);
    }

    [Fact]
    public async Task Connections_past_the_limit_are_refused_before_the_upgrade()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { MaxConnections = 2 });
        await using var first = await SocketClient.JoinAsync(router.Url!);
        await using var second = await SocketClient.JoinAsync(router.Url!);
        var e = await Assert.ThrowsAsync<WebSocketException>(() => SocketClient.ConnectAsync(router.Url!));
        Assert.Contains("503", e.Message);

        // In memory (no HTTP upgrade to refuse) the session is aborted instead.
        await using (var extra = RawClient.Connect(router))
        {
            Assert.Equal(WampContracts.Router.Core.RouterCore.TooManyConnections, (await extra.ReceiveAsync(WampMessageType.Abort)).Uri);
        }

        await second.SendAsync("""[6, {}, "wamp.close.close_realm"]""");
        await second.ReceiveAsync(WampMessageType.Goodbye);
        second.Abort();
        // The connection is counted until the router has finished closing it.
        using var stop = new CancellationTokenSource(SocketClient.Bound);
        while (router.ConnectionCount > 1) await Task.Delay(5, stop.Token);
        await using var third = await SocketClient.JoinAsync(router.Url!);
    }
}
