using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

public class HandshakeTests
{
    [Fact]
    public async Task Welcome_announces_broker_and_dealer_features_and_a_random_session_id()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var client = RawClient.Connect(router);
        client.Send("""[1, "com.example.realm", {"roles": {"caller": {}}}]""");
        var welcome = await client.ReceiveAsync(WampMessageType.Welcome);
        Assert.InRange(welcome.Id1, 1, WampMessageParser.MaxId);
        using var details = JsonDocument.Parse(welcome.Dict.Json);
        var roles = details.RootElement.GetProperty("roles");
        foreach (var f in new[] { "call_canceling", "call_timeout", "progressive_call_results", "caller_identification", "shared_registration", "pattern_based_registration", "session_meta_api" })
            Assert.True(roles.GetProperty("dealer").GetProperty("features").GetProperty(f).GetBoolean(), f);
        foreach (var f in new[] { "publisher_exclusion", "publisher_identification", "pattern_based_subscription", "subscriber_blackwhite_listing", "session_meta_api" })
            Assert.True(roles.GetProperty("broker").GetProperty("features").GetProperty(f).GetBoolean(), f);
        Assert.Equal("anonymous", details.RootElement.GetProperty("authrole").GetString());
        Assert.Equal("com.example.realm", details.RootElement.GetProperty("realm").GetString());
    }

    [Fact]
    public async Task A_configured_router_refuses_other_realms()
    {
        await using var router = WampRouter.CreateInMemory(new WampRouterOptions { Realms = ["realm1"] });
        await using var refused = RawClient.Connect(router);
        refused.Send("""[1, "realm2", {"roles": {"caller": {}}}]""");
        var abort = await refused.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("wamp.error.no_such_realm", abort.Uri);
        Assert.Contains("realm2", abort.Dict.GetString("message"u8));
        Assert.True(await refused.ClosedAsync());
        await using var accepted = await RawClient.JoinAsync(router, realm: "realm1");
    }

    [Theory]
    [InlineData("""[48, 1, {}, "com.example.x"]""", "wamp.error.protocol_violation", "first message must be HELLO")]
    [InlineData("""[1, "realm1", {}]""", "wamp.error.protocol_violation", "at least one role")]
    [InlineData("""[1, "bad realm", {"roles": {"caller": {}}}]""", "wamp.error.invalid_uri", "not a valid realm URI")]
    [InlineData("""{"not": "an array"}""", "wamp.error.protocol_violation", "JSON array")]
    public async Task A_bad_opening_is_aborted_with_a_clear_reason(string first, string reason, string message)
    {
        await using var router = WampRouter.CreateInMemory();
        await using var client = RawClient.Connect(router);
        client.Send(first);
        var abort = await client.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal(reason, abort.Uri);
        Assert.Contains(message, abort.Dict.GetString("message"u8));
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task Goodbye_is_answered_with_goodbye_and_out_and_the_connection_closes()
    {
        await using var router = WampRouter.CreateInMemory();
        await using var client = await RawClient.JoinAsync(router);
        client.Send("""[6, {}, "wamp.close.normal"]""");
        var reply = await client.ReceiveAsync(WampMessageType.Goodbye);
        Assert.Equal("wamp.close.goodbye_and_out", reply.Uri);
        Assert.True(await client.ClosedAsync());
    }

    [Theory]
    [InlineData("""[1, "realm1", {"roles": {"caller": {}}}]""", "HELLO received in an established session")]
    [InlineData("""[50, 1, {}]""", "Result is not a message a client sends")]
    [InlineData("""[8, 48, 1, {}, "a.b"]""", "ERROR for request type 48")]
    [InlineData("""[70, 5, {}]""", "YIELD for INVOCATION 5, which was never sent")]
    [InlineData("""[48, "x", {}, "a.b"]""", "invalid id")]
    public async Task Protocol_violations_abort_only_the_offending_session(string bad, string message)
    {
        await using var router = WampRouter.CreateInMemory();
        await using var bystander = await RawClient.JoinAsync(router);
        bystander.Send("""[64, 1, {}, "com.example.echo"]""");
        await bystander.ReceiveAsync(WampMessageType.Registered);

        await using var offender = await RawClient.JoinAsync(router);
        offender.Send(bad);
        var abort = await offender.ReceiveAsync(WampMessageType.Abort);
        Assert.Equal("wamp.error.protocol_violation", abort.Uri);
        Assert.Contains(message, abort.Dict.GetString("message"u8), StringComparison.OrdinalIgnoreCase);
        Assert.True(await offender.ClosedAsync());

        // Everybody else carries on.
        await using var caller = await RawClient.JoinAsync(router);
        caller.Send("""[48, 1, {}, "com.example.echo", [1]]""");
        var invocation = await bystander.ReceiveAsync(WampMessageType.Invocation);
        bystander.Send($"[70, {invocation.Id1}, {{}}, [1]]");
        Assert.Equal("[50,1,{},[1]]", await caller.ReceiveTextAsync());
    }
}
