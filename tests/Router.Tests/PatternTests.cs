using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

public class PatternTests
{
    private static readonly string[] Patterns = ["""{"match": "prefix"}, "com.p" """, """{"match": "wildcard"}, "com..w" """];

    /// <summary>Registers and subscribes each of <see cref="Patterns"/>; returns the registration and subscription ids.</summary>
    private static async Task<long[]> HoldPatternsAsync(RawClient client)
    {
        var ids = new List<long>();
        long requestId = 100;
        foreach (string pattern in Patterns)
        {
            client.Send($"[64, {++requestId}, {pattern}]");
            ids.Add((await client.ReceiveAsync(WampMessageType.Registered)).Id2);
            client.Send($"[32, {++requestId}, {pattern}]");
            ids.Add((await client.ReceiveAsync(WampMessageType.Subscribed)).Id2);
        }
        return [.. ids];
    }

    [Fact]
    public async Task A_session_that_leaves_takes_its_pattern_registrations_and_subscriptions_with_it()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var other = await RawClient.JoinAsync(router);
        other.Send("""[32, 1, {}, "wamp.session.on_leave"]""");
        await other.ReceiveAsync(WampMessageType.Subscribed);
        var leaving = await RawClient.JoinAsync(router);
        long[] oldIds = await HoldPatternsAsync(leaving);

        await leaving.DisposeAsync();
        var left = await other.ReceiveAsync(WampMessageType.Event);
        Assert.Equal(leaving.SessionId.ToString(), Encoding.UTF8.GetString(left.Payload.GetArgumentJson(0).Span));
        foreach (var (uri, requestId) in new[] { ("com.p.x", 2L), ("com.pq", 3L), ("com.y.w", 4L) })
        {
            other.Send($$"""[48, {{requestId}}, {}, "{{uri}}"]""");
            var error = await other.ReceiveAsync(WampMessageType.Error);
            Assert.Equal((requestId, "wamp.error.no_such_procedure"), (error.Id2, error.Uri));
        }

        // The same patterns are free again: new registrations and subscriptions (new ids), which calls and events reach.
        await using var next = await RawClient.JoinAsync(router);
        long[] newIds = await HoldPatternsAsync(next);
        Assert.Empty(newIds.Intersect(oldIds));
        other.Send("""[48, 5, {}, "com.pq"]""");
        Assert.Equal(newIds[0], (await next.ReceiveAsync(WampMessageType.Invocation)).Id2);
        other.Send("""[16, 6, {}, "com.y.w"]""");
        Assert.Equal(newIds[3], (await next.ReceiveAsync(WampMessageType.Event)).Id1);
        await next.AssertNothingPendingAsync();
    }
}
