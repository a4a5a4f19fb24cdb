using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

public class SessionLimitTests
{
    [Fact]
    public async Task A_register_past_MaxRegistrationsPerSession_gets_limit_exceeded_and_registers_nothing()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxRegistrationsPerSession = 2 });
        await using var callee = await RawClient.JoinAsync(router);
        await using var other = await RawClient.JoinAsync(router);
        callee.Send("""[64, 1, {}, "com.example.a"]""");
        long a = (await callee.ReceiveAsync(WampMessageType.Registered)).Id2;
        callee.Send("""[64, 2, {"match": "prefix"}, "com.example.p"]""");
        await callee.ReceiveAsync(WampMessageType.Registered);

        callee.Send("""[64, 3, {"match": "wildcard"}, "com..w"]""");
        var error = await callee.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((64L, 3L, "wamp.error.limit_exceeded"), (error.Id1, error.Id2, error.Uri));
        Assert.Contains("already holds 2 registrations", error.Payload.ToString());
        Assert.Contains("MaxRegistrationsPerSession = 2", error.Payload.ToString());
        other.Send("""[48, 1, {}, "com.x.w"]""");
        Assert.Equal("wamp.error.no_such_procedure", (await other.ReceiveAsync(WampMessageType.Error)).Uri);

        // The limit is per session, and unregistering makes room again.
        other.Send("""[64, 2, {"match": "wildcard"}, "com..w"]""");
        await other.ReceiveAsync(WampMessageType.Registered);
        callee.Send($"[66, 4, {a}]");
        await callee.ReceiveAsync(WampMessageType.Unregistered);
        callee.Send("""[64, 5, {"match": "wildcard"}, "com..v"]""");
        Assert.Equal(5, (await callee.ReceiveAsync(WampMessageType.Registered)).Id1);
    }

    [Fact]
    public async Task A_subscribe_past_MaxSubscriptionsPerSession_gets_limit_exceeded_but_subscribing_again_to_a_held_one_does_not()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { MaxSubscriptionsPerSession = 2 });
        await using var subscriber = await RawClient.JoinAsync(router);
        await using var publisher = await RawClient.JoinAsync(router);
        subscriber.Send("""[32, 1, {}, "com.example.t1"]""");
        long t1 = (await subscriber.ReceiveAsync(WampMessageType.Subscribed)).Id2;
        subscriber.Send("""[32, 2, {"match": "prefix"}, "com.example.p"]""");
        await subscriber.ReceiveAsync(WampMessageType.Subscribed);

        subscriber.Send("""[32, 3, {"match": "wildcard"}, "com..t3"]""");
        var error = await subscriber.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((32L, 3L, "wamp.error.limit_exceeded"), (error.Id1, error.Id2, error.Uri));
        Assert.Contains("already holds 2 subscriptions", error.Payload.ToString());
        Assert.Contains("MaxSubscriptionsPerSession = 2", error.Payload.ToString());
        publisher.Send("""[16, 1, {}, "com.example.t3"]""");
        await subscriber.AssertNothingPendingAsync();

        subscriber.Send("""[32, 4, {}, "com.example.t1"]""");
        Assert.Equal(t1, (await subscriber.ReceiveAsync(WampMessageType.Subscribed)).Id2);

        subscriber.Send($"[34, 5, {t1}]");
        await subscriber.ReceiveAsync(WampMessageType.Unsubscribed);
        subscriber.Send("""[32, 6, {"match": "wildcard"}, "com..t3"]""");
        long t3 = (await subscriber.ReceiveAsync(WampMessageType.Subscribed)).Id2;
        publisher.Send("""[16, 2, {}, "com.example.t3"]""");
        Assert.Equal(t3, (await subscriber.ReceiveAsync(WampMessageType.Event)).Id1);
    }
}
