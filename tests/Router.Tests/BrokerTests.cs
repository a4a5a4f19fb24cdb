using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

public class BrokerTests
{
    private static async Task<long> SubscribeAsync(RawClient subscriber, string topic, string options = "{}", long requestId = 1)
    {
        subscriber.Send($$"""[32, {{requestId}}, {{options}}, "{{topic}}"]""");
        var m = await subscriber.ReceiveAsync(WampMessageType.Subscribed);
        return m.Id2;
    }

    [Fact]
    public async Task An_event_reaches_subscribers_with_the_payload_byte_for_byte_but_not_the_publisher()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        await using var subscriber = await RawClient.JoinAsync(router);
        long sub = await SubscribeAsync(subscriber, "com.example.ticks");
        Assert.Equal(sub, await SubscribeAsync(publisher, "com.example.ticks")); // one subscription per topic and policy

        publisher.Send("""[16, 1, {}, "com.example.ticks", [1, "two"], {"seq" : 1}]""");
        var e = await subscriber.ReceiveAsync(WampMessageType.Event);
        Assert.Equal(sub, e.Id1);
        Assert.InRange(e.Id2, 1, WampMessageParser.MaxId);
        Assert.Equal($$"""[36,{{sub}},{{e.Id2}},{},[1, "two"],{"seq" : 1}]""", e.ToString());
        await publisher.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Exclude_me_false_acknowledge_and_disclose_me_do_what_they_say()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        long sub = await SubscribeAsync(publisher, "com.example.t");
        publisher.Send("""[16, 2, {"exclude_me": false, "acknowledge": true, "disclose_me": true}, "com.example.t"]""");
        var first = await publisher.ReceiveAsync();
        var second = await publisher.ReceiveAsync();
        var (evt, ack) = first.Type == WampMessageType.Event ? (first, second) : (second, first);
        Assert.Equal(WampMessageType.Published, ack.Type);
        Assert.Equal(2, ack.Id1);
        Assert.Equal(evt.Id2, ack.Id2);
        Assert.Equal(publisher.SessionId, evt.Dict.GetInt64("publisher"u8));
    }

    [Fact]
    public async Task Publishing_to_an_invalid_or_reserved_topic_fails_only_when_acknowledged()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        publisher.Send("""[16, 1, {}, "wamp.session.on_join"]""");
        publisher.Send("""[16, 2, {"acknowledge": true}, "bad topic"]""");
        var e = await publisher.ReceiveAsync(WampMessageType.Error);
        Assert.Equal((16L, 2L, "wamp.error.invalid_uri"), (e.Id1, e.Id2, e.Uri));
    }

    [Fact]
    public async Task Black_and_white_lists_pick_the_receivers()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        await using var a = await RawClient.JoinAsync(router);
        await using var b = await RawClient.JoinAsync(router);
        await SubscribeAsync(a, "com.example.t");
        await SubscribeAsync(b, "com.example.t");
        publisher.Send($$"""[16, 1, {"exclude": [{{a.SessionId}}]}, "com.example.t", ["to b"]]""");
        publisher.Send($$"""[16, 2, {"eligible": [{{a.SessionId}}]}, "com.example.t", ["to a"]]""");
        Assert.Equal("""["to a"]""", (await a.ReceiveAsync(WampMessageType.Event)).Payload.ToString()[5..^10]);
        Assert.Equal("""["to b"]""", (await b.ReceiveAsync(WampMessageType.Event)).Payload.ToString()[5..^10]);
        await a.AssertNothingPendingAsync();
        await b.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task X_options_of_a_publication_reach_every_subscriber_in_the_event_details()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        await using var exactSubscriber = await RawClient.JoinAsync(router);
        await using var prefixSubscriber = await RawClient.JoinAsync(router);
        long exact = await SubscribeAsync(exactSubscriber, "com.example.traced.a");
        long prefix = await SubscribeAsync(prefixSubscriber, "com.example.traced", """{"match": "prefix"}""");

        publisher.Send("""[16, 1, {"x_traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x_tracestate": "vendor=1", "x_nested": {"a": [1]}, "other": 1}, "com.example.traced.a", [1]]""");
        var toExact = await exactSubscriber.ReceiveAsync(WampMessageType.Event);
        var toPrefix = await prefixSubscriber.ReceiveAsync(WampMessageType.Event);
        Assert.Equal((exact, prefix), (toExact.Id1, toPrefix.Id1));
        foreach (var e in new[] { toExact, toPrefix })
        {
            Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", e.Dict.GetString("x_traceparent"u8));
            Assert.Equal("vendor=1", e.Dict.GetString("x_tracestate"u8));
            Assert.Equal("""{"a": [1]}""", System.Text.Encoding.UTF8.GetString(e.Dict.GetRaw("x_nested"u8).Span));
            Assert.Null(e.Dict.GetInt64("other"u8)); // only x_ options are forwarded
        }
        Assert.Equal("com.example.traced.a", toPrefix.Dict.GetString("topic"u8));
    }

    [Fact]
    public async Task Pattern_subscriptions_receive_every_match_with_the_concrete_topic()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        await using var subscriber = await RawClient.JoinAsync(router);
        long exact = await SubscribeAsync(subscriber, "com.example.orders.created", requestId: 1);
        long prefix = await SubscribeAsync(subscriber, "com.example.orders", """{"match": "prefix"}""", requestId: 2);
        long wildcard = await SubscribeAsync(subscriber, "com.example..created", """{"match": "wildcard"}""", requestId: 3);

        publisher.Send("""[16, 1, {}, "com.example.orders.created", [1]]""");
        var events = new[] { await subscriber.ReceiveAsync(), await subscriber.ReceiveAsync(), await subscriber.ReceiveAsync() };
        Assert.Equal([exact, prefix, wildcard], events.Select(e => e.Id1).Order().ToArray().Order());
        Assert.Single(events.Select(e => e.Id2).Distinct()); // one publication id
        Assert.All(events.Where(e => e.Id1 != exact), e => Assert.Equal("com.example.orders.created", e.Dict.GetString("topic"u8)));
        Assert.True(events.Single(e => e.Id1 == exact).Dict.IsEmpty);
    }

    [Fact]
    public async Task Unsubscribe_stops_events_and_unknown_ids_are_an_error()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var publisher = await RawClient.JoinAsync(router);
        await using var subscriber = await RawClient.JoinAsync(router);
        long sub = await SubscribeAsync(subscriber, "com.example.t");
        subscriber.Send($"[34, 2, {sub}]");
        Assert.Equal("[35,2]", await subscriber.ReceiveTextAsync());
        publisher.Send("""[16, 1, {}, "com.example.t"]""");
        await subscriber.AssertNothingPendingAsync();
        subscriber.Send($"[34, 3, {sub}]");
        Assert.Equal("wamp.error.no_such_subscription", (await subscriber.ReceiveAsync(WampMessageType.Error)).Uri);
    }

    [Fact]
    public async Task The_session_meta_api_counts_lists_gets_and_announces_joins_and_leaves()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var watcher = await RawClient.JoinAsync(router);
        await SubscribeAsync(watcher, "wamp.session.on_join", requestId: 1);
        await SubscribeAsync(watcher, "wamp.session.on_leave", requestId: 2);

        var other = await RawClient.JoinAsync(router);
        var join = await watcher.ReceiveAsync(WampMessageType.Event);
        using (var info = JsonDocument.Parse(join.Payload.ArgumentsJson))
            Assert.Equal(other.SessionId, info.RootElement[0].GetProperty("session").GetInt64());

        watcher.Send("""[48, 3, {}, "wamp.session.count"]""");
        Assert.Equal("[50,3,{},[2]]", await watcher.ReceiveTextAsync());
        watcher.Send("""[48, 4, {}, "wamp.session.list"]""");
        using (var list = JsonDocument.Parse((await watcher.ReceiveAsync(WampMessageType.Result)).Payload.ArgumentsJson))
            Assert.Equal(new[] { watcher.SessionId, other.SessionId }.Order(), list.RootElement[0].EnumerateArray().Select(e => e.GetInt64()).Order());
        watcher.Send($$"""[48, 5, {}, "wamp.session.get", [{{other.SessionId}}]]""");
        Assert.Equal("anonymous", JsonDocument.Parse((await watcher.ReceiveAsync(WampMessageType.Result)).Payload.ArgumentsJson).RootElement[0].GetProperty("authrole").GetString());
        watcher.Send("""[48, 6, {}, "wamp.session.get", [1]]""");
        Assert.Equal("wamp.error.no_such_session", (await watcher.ReceiveAsync(WampMessageType.Error)).Uri);
        watcher.Send("""[48, 7, {}, "wamp.session.kill_everything"]""");
        Assert.Equal("wamp.error.no_such_procedure", (await watcher.ReceiveAsync(WampMessageType.Error)).Uri);

        await other.DisposeAsync();
        var leave = await watcher.ReceiveAsync(WampMessageType.Event);
        using (var args = JsonDocument.Parse(leave.Payload.ArgumentsJson))
            Assert.Equal(other.SessionId, args.RootElement[0].GetInt64());
    }
}
